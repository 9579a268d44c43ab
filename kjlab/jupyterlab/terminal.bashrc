# JupyterLab's terminal, set up as in the exam with no line typed: the kjlab of the Python environment that
# runs JupyterLab on PATH, and what `eval "$(kjlab practice env)"` does -- KUBECONFIG in the current task's
# namespace, the cluster's kubectl first on PATH, alias k with completion.
#
# The server starts each terminal as `env KJLAB_ENV_BIN=<that environment's bin> bash --rcfile <this file> -i`
# (kjlab/jupyterlab/terminal.py). Interactive but not a login shell, bash reads no /etc/profile (which resets
# PATH: a server without a terminal of its own, as under JupyterHub, would otherwise start login shells and
# lose the environment's kjlab) and, given --rcfile, no ~/.bashrc: this file reads it first, so the learner's
# own settings stay and kjlab's come on top.

if [ -f ~/.bashrc ]; then
    . ~/.bashrc
fi

if [ -n "${KJLAB_ENV_BIN:-}" ]; then
    PATH="$KJLAB_ENV_BIN:$PATH"
fi

# Once per terminal: the practice kubeconfig follows the current task (`kjlab practice start` and
# `kjlab exam task K` rewrite it), so a later task needs nothing typed here. With no task yet,
# `kjlab practice env` says how to start one; with no cluster yet, it says so and this adds what then.
if command -v kjlab >/dev/null 2>&1; then
    if _kjlab_env=$(command kjlab practice env --shell bash); then
        eval "$_kjlab_env"
    else
        echo 'kjlab: this terminal'"'"'s kubectl is not set up yet: once that is fixed, eval "$(kjlab practice env)" here (or open a new terminal)' >&2
    fi
    unset _kjlab_env
fi
