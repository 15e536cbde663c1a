"""Writes a parsed taxonomy: every path and its implied parents, upserted by path."""

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from datasets.importers import RowError, TaxonomyRow
from datasets.models import Dataset, Label

SEPARATOR = " > "


def taxonomy_upsert(*, dataset: Dataset, rows: Iterable[TaxonomyRow | RowError]) -> tuple[int, int, list[RowError]]:
    """Create missing labels (parents first), update changed codes and synonyms (a row without synonyms keeps
    the label's). Returns (created, updated, errors).

    A taxonomy has thousands of nodes, not millions: it is held in memory and written in one transaction.
    """
    codes: dict[tuple[str, ...], str] = {}
    synonyms: dict[tuple[str, ...], list[str]] = {}
    errors: list[RowError] = []
    for row in rows:
        if isinstance(row, RowError):
            errors.append(row)
            continue
        for depth in range(1, len(row.path)):
            codes.setdefault(row.path[:depth], "")
        codes[row.path] = row.code
        if row.synonyms:
            synonyms[row.path] = list(row.synonyms)

    now = timezone.now()
    with transaction.atomic():
        existing = {tuple(label.path.split(SEPARATOR)): label for label in Label.objects.filter(dataset=dataset)}
        taken_codes = {label.code: path for path, label in existing.items() if label.code}
        created = updated = 0
        to_update = []
        for path, code in codes.items():
            owner = taken_codes.get(code) if code else None
            if owner is not None and owner != path:
                errors.append(RowError(line=0, reason=f"code {code!r} already used by {SEPARATOR.join(owner)}"))
                codes[path] = ""
                continue
            label = existing.get(path)
            changed_code = label is not None and code and label.code != code
            changed_synonyms = label is not None and path in synonyms and label.synonyms != synonyms[path]
            if changed_code or changed_synonyms:
                label.code = code if changed_code else label.code
                label.synonyms = synonyms[path] if changed_synonyms else label.synonyms
                label.updated_at = now  # bulk_update skips auto_now: the search index reloads on it
                to_update.append(label)
            if code:
                taken_codes[code] = path
        Label.objects.bulk_update(to_update, ["code", "synonyms", "updated_at"], batch_size=1000)
        updated = len(to_update)

        missing = sorted((path for path in codes if path not in existing), key=len)
        for depth in sorted({len(path) for path in missing}):
            level = [
                Label(
                    dataset=dataset,
                    parent=existing.get(path[:-1]),
                    name=path[-1],
                    path=SEPARATOR.join(path),
                    code=codes[path],
                    depth=depth - 1,
                    synonyms=synonyms.get(path, []),
                )
                for path in missing
                if len(path) == depth
            ]
            Label.objects.bulk_create(level, batch_size=1000)
            if not all(label.pk for label in level):
                level = list(Label.objects.filter(dataset=dataset, depth=depth - 1))
            existing.update({tuple(label.path.split(SEPARATOR)): label for label in level})
            created += sum(1 for path in missing if len(path) == depth)
    errors.sort(key=lambda error: error.line)
    return created, updated, errors
