"""Who acts, and how it shows: the context and namespace an op works in, whether it prints the
kubectl line it stands for, the recorder its steps go to, and a context the guard lets it touch
beyond kjlab's own. A session passes one ``Actor`` to every op instead of the same four keywords."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace
from typing import Any, Callable

from kjlab.errors import KjlabError

CARRIED = ("echo", "recorder", "allow_context")   # the keywords an Actor fills in


@dataclass(frozen=True)
class Actor:
    context: str
    namespace: str | None = None
    echo: bool = True
    recorder: Any = None
    allow_context: str | None = None

    def quiet(self) -> Actor:
        """The same actor, printing nothing (its steps are still recorded)."""
        return replace(self, echo=False)


def acts(op: Callable) -> Callable:
    """Let ``op(context, [namespace,] ...)`` also be called as ``op(actor, ...)``: the actor gives the
    context, the namespace when the op takes one, and each of CARRIED the op takes that the call does
    not name (a keyword given in the call wins, so the old keywords keep working)."""
    params = list(inspect.signature(op).parameters)
    namespaced = params[1:2] == ["namespace"]
    carried = [k for k in CARRIED if k in params]

    @functools.wraps(op)
    def call(*args, **kwargs):
        if not (args and isinstance(args[0], Actor)):
            return op(*args, **kwargs)
        actor, rest = args[0], args[1:]
        if namespaced and actor.namespace is None:
            raise KjlabError(f"{op.__name__} acts in a namespace and the actor names none",
                             "make the actor with Actor(context, namespace)")
        for key in carried:
            kwargs.setdefault(key, getattr(actor, key))
        head = (actor.context, actor.namespace) if namespaced else (actor.context,)
        return op(*head, *rest, **kwargs)

    return call
