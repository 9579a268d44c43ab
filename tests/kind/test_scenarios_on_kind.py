"""The documented scenarios (tests/cluster/test_scenarios.py), with and without their policy, on
a real kubelet. The CLI tests there test kjlab's command line, not the engine: not repeated."""

from kind_reuse import load, reused_tests

globals().update(reused_tests(load("cluster/test_scenarios.py"), skip={
    "test_cli_json_has_the_documented_fields", "test_cli_manifest_with_a_patch_step", "test_cli_bad_input_is_one_line",
}))
