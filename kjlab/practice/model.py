"""A practice task: what the learner reads, what kjlab prepares, and how their work is checked.

A task is data plus two functions: ``setup`` fills the task's namespace (broken or partial objects
for a "fix this" task) and ``check`` reads the cluster -- and where behaviour matters, waits for it
-- and returns a :class:`kjlab.checks.Verdict` that explains what it found. Checks never look at
how the learner worked (kubectl create, apply -f, edit, patch): only at what the cluster holds and
does, so any correct route passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

ENGINES = ("kind", "kwok")


@dataclass(frozen=True)
class Task:
    id: str
    topic: str                      # "jobs", "cronjobs", "deployments", "disruptions", ...
    title: str
    statement: str                  # exam style; {ns} is the task's namespace
    minutes: int                    # the time budget an exam would give it
    check: Callable                 # check(ctx) -> Verdict
    hint: str
    imperative: str                 # a right answer as shell lines of kubectl (run in the task's namespace)
    declarative: str                # a right answer as YAML for `kubectl apply -f` (or shell lines that apply -f)
    setup: Callable | None = None   # setup(ctx): the prepared objects
    cleanup: Callable | None = None  # cleanup(context): undo what the task changed outside its namespace (nodes)
    engines: tuple[str, ...] = ENGINES
    kind_only_reason: str = ""      # why the simulated kubelet cannot run it (set => engines == ("kind",))
    sources: tuple[str, ...] = field(default_factory=tuple)  # v1.36.4 source lines behind its explanations
    lab_cell: str = ""              # the lab section that proves the behaviour ("labs/NN-x.ipynb, cell <id>: title")

    def __post_init__(self):
        if self.kind_only_reason and self.engines != ("kind",):
            raise ValueError(f"task {self.id}: a kind-only reason goes with engines=('kind',)")
        if "kwok" not in self.engines and not self.kind_only_reason:
            raise ValueError(f"task {self.id}: say why it cannot run on kwok (kind_only_reason)")

    def runs_on(self, engine: str) -> bool:
        return engine in self.engines

    @property
    def declarative_is_yaml(self) -> bool:
        """The declarative answer is YAML for `kubectl apply -f` (else shell lines that end in one)."""
        return "apiVersion:" in self.declarative

    def namespace(self) -> str:
        return f"practice-{self.id}"[:63]

    def text(self) -> str:
        return self.statement.format(ns=self.namespace()).strip()
