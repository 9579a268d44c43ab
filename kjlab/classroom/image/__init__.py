"""The classroom images' inputs (built by tools/classroom/build.sh, not imported at run time): the
pinned Python and npm packages of the learner and hub images, and the learner's entrypoint."""
