"""Marked product titles, as the span kind's export gives them to the writers."""

from typing import Any

TITLE = "Acme Pro blender, red 1.5 L"


def span(start: int, end: int, label: str, **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, **extra}


def span_row(external_id: str = "sku-1", text: str = TITLE, spans: list | None = None, **extra: Any) -> dict:
    if spans is None:
        spans = [span(0, 8, "BRAND"), span(18, 21, "COLOR"), span(22, 27, "SIZE")]
    return {"external_id": external_id, "text": text, "spans": spans, "split": "train", **extra}


def span_rows() -> list[dict[str, Any]]:
    return [
        span_row(),
        span_row("sku-2", "Crème brûlée torch — Zenta", [span(21, 26, "BRAND")]),
        span_row("sku-3", "Plain mug", []),  # marked, with nothing to mark
        {**span_row("sku-4"), "spans": None},  # not marked yet
    ]
