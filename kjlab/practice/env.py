"""The shell the learner types in, set up as in the exam: `eval "$(kjlab practice env)"`.

It points KUBECONFIG at a kubeconfig of the practice's own -- a copy of kjlab's lab context under
the name ``practice`` whose namespace is the current task's -- so plain ``kubectl get pods`` works
in the task's namespace and neither ~/.kube/config nor kjlab's own kubeconfig is rewritten. kubectl
(the one built at the cluster's version) comes first on PATH, with ``alias k=kubectl`` and completion.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import yaml

from kjlab.errors import KjlabError
from kjlab.paths import kubeconfig_path

CONTEXT = "practice"


def write_kubeconfig(directory: Path, lab_context: str, namespace: str) -> Path:
    """``directory``/kubeconfig: the lab context's cluster and user, one context ``practice`` in
    ``namespace``, current. Private (0600), written atomically."""
    source = yaml.safe_load(kubeconfig_path().read_text()) if kubeconfig_path().exists() else None
    source = source or {}
    ctx = next((c for c in source.get("contexts") or [] if c.get("name") == lab_context), None)
    if ctx is None:
        raise KjlabError(f"kjlab's kubeconfig has no context {lab_context}", "kjlab up")
    cluster = next(c for c in source.get("clusters") or [] if c.get("name") == ctx["context"]["cluster"])
    user = next(u for u in source.get("users") or [] if u.get("name") == ctx["context"]["user"])
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": CONTEXT,
           "clusters": [{**cluster, "name": CONTEXT}], "users": [{**user, "name": CONTEXT}],
           "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace}}]}
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "kubeconfig"
    tmp = directory / f".kubeconfig.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(yaml.safe_dump(doc, sort_keys=False))
    tmp.replace(path)
    return path


def kubectl_dir(directory: Path, kubectl: Path) -> Path:
    """A directory holding only ``kubectl`` (a link to the cluster's), for PATH: the tools cache
    has kube-apiserver and etcd too, which have no business on the learner's PATH."""
    bin_dir = directory / "bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    link = bin_dir / "kubectl"
    if link.is_symlink() or link.exists():
        if os.path.realpath(link) == os.path.realpath(kubectl):
            return bin_dir
        link.unlink()
    link.symlink_to(kubectl)
    return bin_dir


def shell_lines(kubeconfig: Path, bin_dir: Path, shell: str) -> str:
    q = shlex.quote
    lines = [f"export KUBECONFIG={q(str(kubeconfig))}",
             f"export PATH={q(str(bin_dir))}:\"$PATH\"",
             "alias k=kubectl"]
    if shell == "zsh":
        lines += ["autoload -Uz compinit && compinit -C", "source <(kubectl completion zsh)", "compdef k=kubectl"]
    elif shell == "bash":
        lines += ["source <(kubectl completion bash)", "complete -o default -F __start_kubectl k"]
    return "\n".join(lines)


def shell_name(explicit: str | None = None) -> str:
    return explicit or os.path.basename(os.environ.get("SHELL", "bash")) or "bash"


def follows(directory: Path) -> bool:
    """Whether the shell that runs kjlab is set up already: its KUBECONFIG is the practice kubeconfig
    (``directory``/kubeconfig), which follows the current task -- as in JupyterLab's terminal, set up
    by kjlab/jupyterlab/terminal.bashrc, or any shell after `eval "$(kjlab practice env)"`."""
    return os.environ.get("KUBECONFIG") == str(directory / "kubeconfig")


def no_task_line() -> str:
    return ("kjlab: no practice task yet: `kjlab practice list` shows them, `kjlab practice start TASK` starts one"
            " (kubectl here follows it)")

