"""The simulated kubelet: KWOK Stage files shipped as package data, rendered per cluster."""

from __future__ import annotations

import json
from importlib import resources

import yaml

# Images the lab preloads (and kind loads with `kind load docker-image`): these pull, any
# other image fails with ErrImagePull / ImagePullBackOff, as on an air-gapped cluster.
# Matching is on the repository: tag and digest are ignored, docker.io/library/ is implied.
PULLABLE_IMAGES = (
    "bash",
    "busybox",
    "alpine",
    "debian",
    "ubuntu",
    "python",
    "perl",
    "nginx",
    "registry.k8s.io/pause",
)

STAGE_FILES = ("node.yaml", "pod.yaml")


def image_repository(image: str) -> str:
    """'docker.io/library/bash:5' -> 'bash' (the same normalisation the Stage's jq applies)."""
    import re

    image = re.sub(r"@.*$", "", image)
    image = re.sub(r":[^:/]*$", "", image)
    image = re.sub(r"^docker\.io/", "", image)
    return re.sub(r"^library/", "", image)


def is_pullable(image: str, pullable=PULLABLE_IMAGES) -> bool:
    return image_repository(image) in pullable


def render(time_scale: float = 1.0, kube_version: str = "v0.0.0", pullable=PULLABLE_IMAGES) -> str:
    """The full Stage set as one multi-document YAML string, ready for kwokctl's --config."""
    if not 0 < time_scale <= 10:
        raise ValueError(f"time scale must be in (0, 10], got {time_scale}")
    pullable_jq = ", ".join(json.dumps(p) for p in pullable)  # jq: IN("a", "b")
    pullable_tpl = " ".join(json.dumps(p) for p in pullable)  # Go template: (list "a" "b")
    docs = []
    for name in STAGE_FILES:
        text = resources.files("kjlab.cluster").joinpath("kwok_stages").joinpath(name).read_text()
        text = (
            text.replace("__TIME_SCALE__", repr(float(time_scale)))
            .replace("__PULLABLE_LIST__", pullable_tpl)
            .replace("__PULLABLE__", pullable_jq)
            .replace("__KUBE_VERSION__", kube_version)
        )
        docs.append(text)
    rendered = "\n---\n".join(docs)
    # Fail here, not inside kwok, when a placeholder or YAML is off.
    assert "__" not in "".join(l for l in rendered.splitlines() if not l.lstrip().startswith("#"))
    list(yaml.safe_load_all(rendered))
    return rendered
