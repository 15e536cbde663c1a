"""Which file column feeds which field: a product's, or a queries or judgments file's (by spelling)."""

from __future__ import annotations

from .files import ImportFormatError
from .values import normalize_column

PRODUCT_FIELDS: tuple[str, ...] = (
    "external_id", "title", "description", "brand", "price", "currency", "image_url", "url",
)
REQUIRED_FIELDS = ("external_id", "title")
# Spellings are compared after normalize_column, so "Product ID" matches "product_id".
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "external_id": ("id", "sku", "product_id", "item_id", "asin", "gtin", "ean"),
    "title": ("name", "product_title", "product_name", "offer_title"),
    "description": ("desc", "body", "body_html", "long_description"),
    "brand": ("manufacturer", "vendor", "maker"),
    "price": ("cost", "amount", "sale_price"),
    "currency": ("currency_code",),
    "image_url": ("image", "image_link", "img", "picture", "thumbnail"),
    "url": ("link", "product_url", "page_url"),
}
_SHOWN_COLUMNS = 30


def suggest_mapping(columns: list[str]) -> dict[str, str]:
    """field -> column, each column used at most once; exact field names beat synonyms."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(normalize_column(column), column)
    mapping: dict[str, str] = {}
    # Exact names get a whole pass first, so "title" is not lost to a "name" column found earlier.
    for candidates in ({name: (name,) for name in PRODUCT_FIELDS}, _SYNONYMS):
        for name in PRODUCT_FIELDS:
            for candidate in () if name in mapping else candidates.get(name, ()):
                column = by_name.get(candidate)
                if column is not None and column not in mapping.values():
                    mapping[name] = column
                    break
    return {name: mapping[name] for name in PRODUCT_FIELDS if name in mapping}


def columns_by_spelling(
    columns: list[str], spellings: dict[str, tuple[str, ...]], *, required: tuple[str, ...], hint: str
) -> dict[str, str]:
    """field -> column of the file, each field taken from the first of its spellings (compared after
    normalize_column) that another field has not taken; a required field without a column refuses the whole
    file, naming the missing fields by their first spelling, the file's columns, and `hint`."""
    by_name: dict[str, str] = {}
    for column in columns:
        by_name.setdefault(normalize_column(column), column)
    fields: dict[str, str] = {}
    for field, names in spellings.items():
        found = next((by_name[n] for n in names if n in by_name and by_name[n] not in fields.values()), None)
        if found is not None:
            fields[field] = found
    missing = [spellings[field][0] for field in required if field not in fields]
    if missing:
        shown = ", ".join(columns[:_SHOWN_COLUMNS]) + (", …" if len(columns) > _SHOWN_COLUMNS else "")
        raise ImportFormatError(f"No {' or '.join(missing)} column: found columns {shown or '(none)'}. {hint}")
    return fields


def resolve_mapping(
    columns: list[str], mapping: dict[str, str] | None, label_column: str | None
) -> tuple[dict[str, str], str]:
    """Check a chosen mapping (or suggest one) against the file's columns; returns (mapping, label column)."""
    shown = ", ".join(columns[:_SHOWN_COLUMNS]) + (", …" if len(columns) > _SHOWN_COLUMNS else "")
    found = shown or "(none)"
    if mapping is None:
        mapping = suggest_mapping(columns)
    else:
        mapping = {name: column.strip() for name, column in mapping.items() if column and column.strip()}
        for name, column in mapping.items():
            if name not in PRODUCT_FIELDS:
                raise ImportFormatError(f"Unknown field '{name}' in the column mapping.")
            if column not in columns:
                raise ImportFormatError(
                    f"Column '{column}' (mapped to '{name}') is not in the file: found columns {found}."
                )
    missing = " or ".join(f"'{name}'" for name in REQUIRED_FIELDS if name not in mapping)
    if missing:
        raise ImportFormatError(f"No column for {missing}: found columns {found}. Map one in the import options.")
    label = (label_column or "").strip()
    if label and label not in columns:
        raise ImportFormatError(f"Label column '{label}' is not in the file: found columns {found}.")
    return mapping, label
