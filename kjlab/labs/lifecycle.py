"""The pod lifecycle lab's (``labs/10-pod-lifecycle.ipynb``) pod "zoo": one pod per STATUS of
`kubectl get pods`, created on purpose from kjlab/examples/pod-statuses.yaml, recorded from a watch,
and read back the way the API server's table printer derives the column (kjlab.printers.pod_status,
applied by the recorder to every recorded pod object).

Fleeting statuses (ContainerCreating, PodInitializing, Terminating) are caught because the
recorder keeps every change the watch delivers, not because a `kubectl get` happened to look at
the right moment. What an engine cannot produce is listed with the reason, never faked.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pandas as pd

from kjlab import examples
from kjlab.actions import ops
from kjlab.labs import session
from kjlab.api import readers
from kjlab.runs.session import Session
from kjlab.runs.result import Recording

SOURCE = "pod-statuses.yaml"

# Statuses the material lists that no pod of the zoo produces on an engine, and why (shown in the lab).
NOT_PRODUCED = {
    "kwok": {
        "OOMKilled": "no real process, no memory limit, no kernel OOM killer",
        "exit 143 (SIGTERM handled)": "no real process receives a signal; a deleted running pod is shown killed (137)",
        "Evicted": "the kubelet's eviction manager (disk or memory pressure, storage limits) is not simulated",
        "CreateContainerConfigError": "the simulated kubelet does not resolve ConfigMaps or Secrets for a container: "
                                      "such a pod would run there, so the lab does not create it",
        "InvalidImageName, Init:ErrImagePull, Init:ImagePullBackOff": "the simulation knows only pullable and "
                                      "unpullable images, and does not pull an init container's image on its own",
        "StartError": "no runtime starts a process: a command the image does not have is outside the grammar",
        "OutOfcpu": "the simulated kubelet admits every pod: one bound with nodeName runs whatever it requests",
        "Unknown (reason NodeLost)": "kubectl still prints it, but the project found no v1.36 component that sets "
                                     "reason NodeLost: a pod on a lost node shows Terminating after its taint eviction",
    },
    "kind": {
        "Evicted (as the STATUS text)": "the pod IS evicted (phase Failed, reason Evicted), but a v1.36 kubelet also "
                                        "records its killed container (terminated, Error, 137), and the API server's "
                                        "table printer puts a container's reason over the pod's: STATUS shows Error (or "
                                        "ContainerStatusUnknown when the runtime no longer had the container as "
                                        "the kubelet wrote the pod's last status: kubelet_pods.go)",
        "Unknown (reason NodeLost)": "kubectl still prints it, but the project found no v1.36 component that sets "
                                     "reason NodeLost: a pod on a lost node shows Terminating after its taint eviction",
    },
}

SIGNALS = {9: "SIGKILL", 15: "SIGTERM", 6: "SIGABRT", 2: "SIGINT"}


@dataclass(frozen=True)
class Specimen:
    """One pod of the zoo, read from its manifest's kjlab.io/* annotations."""
    name: str
    shows: tuple[str, ...]      # the STATUS values it is made to pass through, in order; "A|B": either
    engines: tuple[str, ...]
    why: str
    delete_at: str | None       # the STATUS at which the lab deletes it
    manifest: dict


def manifests() -> list[dict]:
    return examples.objects(SOURCE)


def source() -> str:
    return examples.packaged(SOURCE)


def specimens(engine: str | None = None) -> list[Specimen]:
    """The zoo's pods, those ``engine`` can produce when it is given."""
    out = []
    for doc in manifests():
        ann = readers.annotations(doc)
        s = Specimen(name=readers.name(doc), shows=tuple(ann["kjlab.io/shows"].split(",")),
                     engines=tuple(ann["kjlab.io/engines"].split(",")), why=ann.get("kjlab.io/why", ""),
                     delete_at=ann.get("kjlab.io/delete-at"), manifest=doc)
        if engine is None or engine in s.engines:
            out.append(s)
    return out


def exit_meaning(code: int | None) -> str:
    """What an exit code says: the program's own code, or 128 + the signal that ended it."""
    if code is None:
        return ""
    if code == 0:
        return "success"
    if code == 128:
        return "128 and no signal: the runtime could not start the program"
    if code > 128:
        sig = code - 128
        return f"128 + {sig} = ended by {SIGNALS.get(sig, f'signal {sig}')}"
    return "the program's own failure code"


def status_sequences(recording: Recording) -> dict[str, list[str]]:
    """Each pod's STATUS values in the order they were recorded, repeats collapsed."""
    seqs: dict[str, list[str]] = {}
    for r in recording.of("pod"):
        status = r.get("status")
        if not status:
            continue
        seq = seqs.setdefault(r["name"], [])
        if not seq or seq[-1] != status:
            seq.append(status)
    return seqs


def _containers(pod: dict) -> str:
    """Each container's state as `name=state:reason(exit)`, init containers first."""
    parts = []
    for init in (True, False):
        for cs in readers.container_statuses(pod, init=init):
            for which in ("waiting", "running", "terminated"):
                fields = (cs.get("state") or {}).get(which)
                if fields is not None:
                    text = f"{which}:{fields['reason']}" if fields.get("reason") else which
                    if which == "terminated":
                        text += f"({fields.get('exitCode')})"
                    parts.append(f"{'init ' if init else ''}{cs.get('name')}={text}")
    return ", ".join(parts)


def _last_exit(pod: dict) -> int | None:
    """The exit code of the pod's most telling termination: a failed one first, else any."""
    terms = [t for _, t in readers.terminations(pod, init=True)]
    terms += [(cs.get("lastState") or {}).get("terminated") for cs in readers.container_statuses(pod)
              + readers.container_statuses(pod, init=True)]
    codes = [t.get("exitCode") for t in terms if t]
    return next((c for c in codes if c), codes[0] if codes else None)


def zoo_table(recording: Recording, wanted: list[Specimen] | None = None):
    """One row per pod: the STATUS values recorded, which of the wanted ones were seen, and the
    phase, conditions and container states of the object that showed the last of them."""
    seqs = status_sequences(recording)
    rows = []
    by_name = {s.name: s for s in wanted or []}
    last_row = {}
    for r in recording.of("pod"):
        if r.get("object"):
            last_row[r["name"]] = r
    for name in (list(by_name) or recording.pod_names()):
        seq = seqs.get(name, [])
        r = last_row.get(name) or {}
        pod = r.get("object") or {}
        spec = by_name.get(name)
        missing = [s for s in spec.shows if not _seen(s, seq)] if spec else []
        code = _last_exit(pod)
        rows.append({
            "pod": name,
            "STATUS sequence": " → ".join(seq),
            "made to show": ", ".join(_either(s) for s in spec.shows) if spec else "",
            "not seen": ", ".join(missing),
            "phase": readers.phase(pod),
            "reason": (pod.get("status") or {}).get("reason") or "",
            "message": (pod.get("status") or {}).get("message") or "",
            "conditions": readers.condition_text(pod),
            "containers": _containers(pod),
            "exit code": pd.NA if code is None else code,
            "meaning": ("no process: the kubelet records 137 for a container it could not locate"
                        if "ContainerStatusUnknown" in _containers(pod) else exit_meaning(code)),
            "restarts": sum(cs.get("restartCount") or 0 for cs in readers.container_statuses(pod)
                            + readers.container_statuses(pod, init=True)),
            "deleted": r.get("event") == "DELETED",
        })
    table = pd.DataFrame(rows)
    if len(table):
        table["exit code"] = table["exit code"].astype("Int64")
    return table


def _reached(seq: list[str], spec: Specimen) -> bool:
    """The pod has shown every STATUS it is made to show, in order."""
    i = 0
    for status in seq:
        if i < len(spec.shows) and status in spec.shows[i].split("|"):
            i += 1
    return i == len(spec.shows)


def _seen(shown: str, seq: list[str]) -> bool:
    """``shown`` ("A" or "A|B": a real kubelet may show either) is in the recorded STATUS sequence."""
    return any(status in seq for status in shown.split("|"))


def _either(shown: str) -> str:
    return " or ".join(shown.split("|"))


@dataclass
class Zoo:
    recording: Recording
    specimens: list[Specimen]
    engine: str
    seconds: float
    namespace: str = ""

    def table(self):
        return zoo_table(self.recording, self.specimens)

    def produced(self) -> list[str]:
        """Every STATUS the run recorded on some pod."""
        return sorted({s for seq in status_sequences(self.recording).values() for s in seq})

    def not_produced(self):
        """The statuses of the material this engine did not produce, with the reason (a table)."""
        return pd.DataFrame([{"STATUS": k, "why not here": v} for k, v in NOT_PRODUCED.get(self.engine, {}).items()])

    def plan(self):
        """What each pod is made to show, and how."""
        return plan(self.engine)

    def statuses_of(self, pod: str) -> list[str]:
        return status_sequences(self.recording).get(pod, [])


def plan(engine: str | None = None):
    """The zoo's pods (those ``engine`` produces), what each is made to show and how."""
    return pd.DataFrame([{"pod": s.name, "made to show": " → ".join(_either(x) for x in s.shows), "how": s.why,
                          "engines": ", ".join(s.engines)} for s in specimens(engine)])


def run(context: str, namespace: str, engine: str, timeout: float = 120, poll: float = 0.5,
        echo: bool = True, progress=print) -> Zoo:
    """Create the zoo's pods for ``engine`` in ``namespace`` (which must exist) while recording,
    delete each one that has a ``delete-at`` STATUS once it shows it, and stop when every pod has
    shown what it is made to show (and each deleted pod is gone), or after ``timeout`` seconds.
    Prints one line whenever a pod's STATUS changes (what the wait is waiting for)."""
    wanted = specimens(engine)
    session = Session(context, namespace, echo, make_namespace=False)
    recorder, actor = session.recorder, session.actor
    started = time.monotonic()
    try:
        for s in wanted:
            ops.apply(actor, s.manifest)
        deleted: set[str] = set()
        shown: dict[str, str] = {}
        while time.monotonic() - started < timeout:
            recording = recorder.recording()
            seqs = status_sequences(recording)
            for name, seq in seqs.items():
                if seq and shown.get(name) != seq[-1]:
                    shown[name] = seq[-1]
                    progress(f"[{time.monotonic() - started:5.1f} s] {name}: {' → '.join(seq)}")
            for s in wanted:
                if s.delete_at and s.name not in deleted and s.delete_at in seqs.get(s.name, []):
                    ops.delete_pod(actor, s.name)
                    deleted.add(s.name)
            gone = {r["name"] for r in recording.of("pod") if r.get("event") == "DELETED"}
            if all(_reached(seqs.get(s.name, []), s) and (not s.delete_at or s.name in gone) for s in wanted):
                break
            time.sleep(poll)
        else:
            progress(f"[{timeout:5.1f} s] stopped waiting: some pods did not show everything (see 'not seen')")
    finally:
        recorder.stop()
    return Zoo(recorder.recording(), wanted, engine, round(time.monotonic() - started, 1), namespace)


@session("pod_statuses")
def _pod_statuses(lab, name: str = "zoo", timeout: float = 120) -> Zoo:
    """Create, in a fresh ``<prefix>-<name>``, every pod of kjlab/examples/pod-statuses.yaml this
    engine can produce, recorded until each has shown its STATUS values."""
    namespace = lab.namespace(name)
    print(f"creating the pods this engine ({lab.engine}) can produce in {namespace}; one line per STATUS change "
          f"(at most {timeout:.0f} s) ...", flush=True)
    zoo = run(lab.context, namespace, lab.engine, timeout=timeout, echo=False,
              progress=lambda line: print(line, flush=True))
    print(f"  ... after {zoo.seconds:.0f} s", flush=True)
    return zoo
