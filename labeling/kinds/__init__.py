"""The registry of task kinds. A new kind is its folder here, a migration if it needs tables, and one line below."""

from config.errors import ApplicationError
from labeling.kinds import categorization, matching, relevance, spans
from labeling.kinds.base import Answer, Choice, TaskKind

KINDS: dict[str, TaskKind] = {
    kind.name: kind for kind in (categorization.KIND, matching.KIND, relevance.KIND, spans.KIND)
}

__all__ = ["KINDS", "Answer", "Choice", "TaskKind", "kind_get"]


def kind_get(name: str) -> TaskKind:
    """The kind registered under `name`; an unknown name is a clear error, not a KeyError."""
    try:
        return KINDS[name]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise ApplicationError(f"Unknown task kind {name!r}; choose one of: {known}.", extra={"kind": name}) from None
