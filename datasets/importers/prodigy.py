"""Prodigy annotations as written by `prodigy db-out`: one example per line, the product in text and meta.

Each line is one annotator's answer; lines for the same product stay separate rows (the service merges them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO

from .annotated import (
    OPTIONAL_FIELDS,
    AnnotatedRow,
    as_text,
    build_product,
    check_label,
    extra_attributes,
    optional_values,
    read_records,
    record_error,
)
from .values import quote

ACCEPTED = "Prodigy JSONL (prodigy db-out: one example per line)"
ANSWERS = ("accept", "reject", "ignore")
_NOT_ATTRIBUTES = frozenset(("external_id", "attributes", *OPTIONAL_FIELDS))


def parse_prodigy(stream: BinaryIO, filename: str = "") -> Iterator[AnnotatedRow]:
    """Stream the examples of a Prodigy export (JSON Lines; a JSON array of examples also reads).

    Binary, empty and non-JSON files raise ImportFormatError here; any problem in an example raises it
    from the iteration, naming the line, so the caller imports nothing from a malformed file.
    """
    encoding, records = read_records(stream, filename, ACCEPTED)
    return (_row(where, number, example, encoding) for where, number, example in records)


def _row(where: str, number: int, example: Any, encoding: str) -> AnnotatedRow:
    if not isinstance(example, dict):
        raise record_error(where, "not a Prodigy example (expected a JSON object)")
    meta = example.get("meta")
    if meta is None:
        meta = {}
    elif not isinstance(meta, dict):
        raise record_error(where, "'meta' must be an object")
    title = as_text(example.get("text"), where, "text")
    if not title:
        raise record_error(where, "no text: the example needs 'text'")
    skip = set(_NOT_ATTRIBUTES)
    external_id = as_text(meta.get("external_id"), where, "meta.external_id")
    if not external_id and meta.get("id") not in (None, ""):
        external_id = as_text(meta["id"], where, "meta.id")
        skip.add("id")
    # The input hash identifies the text, so it tells products apart when nothing better is given.
    for key in ("id", "_input_hash"):
        external_id = external_id or as_text(example.get(key), where, key)
    if not external_id:
        raise record_error(where, "no external id: needs meta.external_id, meta.id, id or _input_hash")
    attributes = extra_attributes(meta, skip)
    raw = meta.get("attributes")
    if isinstance(raw, dict):
        attributes.update(raw)
    elif raw is not None and raw != "":
        attributes["attributes"] = raw
    values = {"external_id": external_id, "title": title, **optional_values(meta, where, "meta.")}
    product = build_product(where, number, values, attributes, encoding, "meta.")
    label = _label(where, example)
    if not label:
        return AnnotatedRow(number, product, ())
    annotator = as_text(example.get("_annotator_id"), where, "_annotator_id") or as_text(
        example.get("_session_id"), where, "_session_id"
    )
    return AnnotatedRow(number, product, (check_label(where, annotator, label, encoding),))


def _label(where: str, example: dict) -> str:
    """The accepted category, "" for reject, ignore or an empty choice."""
    answer = example.get("answer")
    if answer is None:
        raise record_error(where, "no answer: the example needs 'answer' (accept, reject or ignore)")
    if answer not in ANSWERS:
        shown = quote(answer) if isinstance(answer, str) else quote(str(answer))
        raise record_error(where, f"unknown answer {shown} (expected accept, reject or ignore)")
    if answer != "accept":
        return ""
    accepted = example.get("accept")
    if isinstance(accepted, list):
        # Choice interface: the option ids are the label names in the textcat recipes.
        ids = [as_text(option, where, "accept") for option in accepted]
        ids = [option for option in ids if option]
        if len(ids) > 1:
            listed = ", ".join(quote(option) for option in ids)
            raise record_error(where, f"{len(ids)} options accepted ({listed}); a product takes one category")
        return ids[0] if ids else ""
    label = as_text(example.get("label"), where, "label")
    if not label:
        raise record_error(where, "answer is accept but there is no label or accept list")
    return label
