"""A lead's synonyms for a label: other words annotators search it by ("trainers" for Sneakers)."""

from collections.abc import Iterable

from config.errors import ApplicationError
from datasets.models import Label

MAX_SYNONYMS = 50
MAX_LENGTH = 255


def synonyms_clean(values: Iterable[str]) -> list[str]:
    """Stripped, blank ones dropped, each kept once whatever its case, in the given order."""
    kept: dict[str, str] = {}
    for value in values:
        text = " ".join(str(value).split())
        if len(text) > MAX_LENGTH:
            raise ApplicationError(f"A synonym is longer than {MAX_LENGTH} characters.", extra={"synonym": text[:80]})
        if text:
            kept.setdefault(text.casefold(), text)
    if len(kept) > MAX_SYNONYMS:
        raise ApplicationError(f"A label has at most {MAX_SYNONYMS} synonyms.", extra={"count": len(kept)})
    return list(kept.values())


def label_synonyms_set(*, label: Label, synonyms: Iterable[str]) -> Label:
    """Replace the label's synonyms; its new `updated_at` tells the search index to reload."""
    label.synonyms = synonyms_clean(synonyms)
    label.save(update_fields=["synonyms", "updated_at"])
    return label
