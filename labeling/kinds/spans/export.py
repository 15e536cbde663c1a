"""A span dataset's exports (being wired: the writers are in datasets.exporters, span_rows.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from config.errors import ApplicationError
from datasets.models import Dataset

FORMATS: tuple[str, ...] = ()


def export_query(*, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
    raise ApplicationError("Attribute span exports are not available yet.")


def export_rows(
    *, dataset: Dataset, params: dict[str, Any], records: Iterable[tuple], split_of: Callable[[int], str] | None
) -> Iterator[dict[str, Any]]:
    raise ApplicationError("Attribute span exports are not available yet.")
