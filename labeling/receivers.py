"""labeling's listeners to the signals of the layer below it (config, which must not import labeling)."""

from labeling.kinds.matching.checks import pair_conflicts_due_request


def pair_conflicts_due(sender: object, **kwargs: object) -> None:
    """After each sweep of a worker: queue the conflict checks of the matching datasets whose answers changed."""
    pair_conflicts_due_request()
