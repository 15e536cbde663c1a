"""A per-process cache of each dataset's search index, so typing never re-reads the taxonomy.

The index is keyed by the taxonomy's version: its label count, its largest id and its last change
(`Label.updated_at`), read with one aggregate per search. Adding, removing, renaming or editing the synonyms
of a label (with `save()` or `bulk_create`) changes the version; a write through `QuerySet.update()` or
`bulk_update` must set `updated_at` too for searches to see it.
"""

import threading
from collections import OrderedDict

from django.db.models import Count, Exists, Max, OuterRef

from datasets.label_rank import LabelEntry, LabelIndex
from datasets.models import Dataset, Label

MAX_DATASETS = 32  # indexes kept per process, least recently used dropped first (5,595 labels ~ 3 MB)

_lock = threading.Lock()
_indexes: "OrderedDict[int, tuple[tuple, LabelIndex]]" = OrderedDict()


def label_index(*, dataset: Dataset) -> LabelIndex:
    labels = Label.objects.filter(dataset=dataset)
    version = tuple(labels.aggregate(n=Count("pk"), last=Max("pk"), changed=Max("updated_at")).values())
    with _lock:
        cached = _indexes.get(dataset.pk)
        if cached is not None and cached[0] == version:
            _indexes.move_to_end(dataset.pk)
            return cached[1]
    # Deprecated labels are never offered (issue 15's taxonomy changes); they still count in the version.
    live = labels.filter(deprecated=False)
    rows = live.annotate(inner=Exists(Label.objects.filter(parent=OuterRef("pk"), deprecated=False))).values_list(
        "pk", "name", "path", "depth", "inner", "synonyms"
    )
    index = LabelIndex(
        entries=tuple(
            LabelEntry(pk=pk, name=name, path=path, depth=depth, leaf=not inner, synonyms=tuple(synonyms or ()))
            for pk, name, path, depth, inner, synonyms in rows
        )
    )
    with _lock:
        _indexes[dataset.pk] = (version, index)
        _indexes.move_to_end(dataset.pk)
        while len(_indexes) > MAX_DATASETS:
            _indexes.popitem(last=False)
    return index
