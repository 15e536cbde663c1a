"""Label Studio "JSON" exports: each task is a product, each accepted annotation gives at most one label.

Reads back what `datasets.exporters.labelstudio` writes, and the exports of other Label Studio projects
whose labeling config has a Choices or Taxonomy tag. Predictions are model suggestions and are ignored.
"""

from __future__ import annotations

import re
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

ACCEPTED = "a Label Studio JSON export (Export > JSON)"
# Data keys that are not product attributes: product fields, our writer's label columns, and
# per-task review flags that describe the labeling, not the product.
_NOT_ATTRIBUTES = frozenset((
    "external_id", "title", "attributes", *OPTIONAL_FIELDS,
    "text", "split", "label", "label_id", "label_code", "annotator", "gold", "flagged", "suggestions", "agreement",
    "votes",
))
# Label Studio's created_username is "[first last ]email, id"; the trailing id only adds noise.
_TRAILING_ID_RE = re.compile(r",\s*\d+\s*$")
_EMAIL_RE = re.compile(r"\S+@\S+")


def parse_labelstudio(stream: BinaryIO, filename: str = "") -> Iterator[AnnotatedRow]:
    """Stream the tasks of a Label Studio export (JSON array, JSON Lines or one task).

    Binary, empty and non-JSON files raise ImportFormatError here; any problem in a task raises it
    from the iteration, naming the item, so the caller imports nothing from a malformed file.
    """
    encoding, records = read_records(stream, filename, ACCEPTED)
    return (_row(where, number, task, encoding) for where, number, task in records)


def _row(where: str, number: int, task: Any, encoding: str) -> AnnotatedRow:
    if not isinstance(task, dict):
        raise record_error(where, "not a Label Studio task (expected an object with 'data')")
    data = task.get("data")
    if data is None:
        raise record_error(
            where, "not a Label Studio task: it has no 'data' object (export the project as JSON, not JSON-MIN)"
        )
    if not isinstance(data, dict):
        raise record_error(where, "'data' must be an object")
    product = build_product(where, number, *_product_values(where, task, data), encoding, "data.")
    labels = []
    for position, annotation in enumerate(_annotations(where, task), 1):
        if not isinstance(annotation, dict):
            raise record_error(where, f"annotation {position} is not an object")
        if annotation.get("was_cancelled"):  # a skipped task: no opinion on the category
            continue
        label = _label(where, f"annotation {position}", annotation)
        if label:
            labels.append(check_label(where, _annotator(where, annotation), label, encoding))
    return AnnotatedRow(number, product, tuple(labels))


def _product_values(where: str, task: dict, data: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    skip = set(_NOT_ATTRIBUTES)
    title = as_text(data.get("title"), where, "data.title")
    text = as_text(data.get("text"), where, "data.text")
    if not title and not text:
        raise record_error(where, "no text: data needs 'text' or 'title'")
    external_id = as_text(data.get("external_id"), where, "data.external_id")
    if not external_id:
        external_id = as_text(data.get("id"), where, "data.id")
        if external_id:
            skip.add("id")
        else:
            external_id = as_text(task.get("id"), where, "id")
    if not external_id:
        raise record_error(where, "no external id: data needs 'external_id' or 'id', or the task an 'id'")
    attributes = extra_attributes(data, skip)
    if title and text and text != title:
        attributes["text"] = text  # a project with both columns: the text is not the title, so keep it
    raw = data.get("attributes")
    if isinstance(raw, dict):
        attributes.update(raw)
    elif raw is not None and raw != "":
        attributes["attributes"] = raw
    values = {"external_id": external_id, "title": title or text, **optional_values(data, where, "data.")}
    return values, attributes


def _annotations(where: str, task: dict) -> list:
    # Label Studio before 1.0 called them completions.
    annotations = task.get("annotations", task.get("completions"))
    if annotations is None:
        return []
    if not isinstance(annotations, list):
        raise record_error(where, "'annotations' must be a list")
    return annotations


def _label(where: str, at: str, annotation: dict) -> str:
    """The one category an annotation gives, "" when it gives none; `at` is "annotation 2"."""
    result = annotation.get("result")
    if result is None:
        return ""
    if not isinstance(result, list):
        raise record_error(where, f"{at}: 'result' must be a list")
    found: dict[str, list[str]] = {}  # value -> the from_names giving it
    for position, item in enumerate(result, 1):
        if not isinstance(item, dict):
            raise record_error(where, f"{at}: result {position} is not an object")
        kind = item.get("type")
        if kind not in ("choices", "taxonomy"):
            continue  # text areas, ratings and the like say nothing about the category
        value = item.get("value")
        if not isinstance(value, dict):
            raise record_error(where, f"{at}: result {position} has no 'value' object")
        values = _choices(where, at, position, value) if kind == "choices" else _taxonomy(where, at, position, value)
        if len(values) > 1:
            what = "choices" if kind == "choices" else "taxonomy paths"
            listed = ", ".join(quote(v) for v in values)
            raise record_error(where, f"{at} has {len(values)} {what} ({listed}); a product takes one category")
        from_name = as_text(item.get("from_name"), where, f"{at}: from_name")
        for label in values:
            found.setdefault(label, []).append(from_name)
    if len(found) > 1:
        names = ", ".join(quote(name) for name in dict.fromkeys(n for names in found.values() for n in names))
        listed = ", ".join(quote(v) for v in found)
        raise record_error(where, f"{at} has results in {names} that disagree ({listed}); a product takes one category")
    return next(iter(found), "")


def _choices(where: str, at: str, position: int, value: dict) -> list[str]:
    choices = value.get("choices")
    if not isinstance(choices, list) or not all(isinstance(choice, str) for choice in choices):
        raise record_error(where, f"{at}: result {position}: value.choices must be a list of text")
    return [choice.strip() for choice in choices if choice.strip()]


def _taxonomy(where: str, at: str, position: int, value: dict) -> list[str]:
    paths = value.get("taxonomy")
    if not isinstance(paths, list) or not all(
        isinstance(path, list) and all(isinstance(part, str) for part in path) for path in paths
    ):
        raise record_error(where, f"{at}: result {position}: value.taxonomy must be a list of paths (lists of text)")
    joined = (" > ".join(part.strip() for part in path if part.strip()) for path in paths)
    return [path for path in joined if path]


def _annotator(where: str, annotation: dict) -> str:
    """Email, else username, else user id: ids mean nothing outside the Label Studio instance."""
    user = annotation.get("completed_by")
    name = user_id = ""
    if isinstance(user, dict):
        name = as_text(user.get("email"), where, "completed_by.email")
        user_id = as_text(user.get("id"), where, "completed_by.id")
    elif isinstance(user, str) and not user.strip().isdigit():
        name = user.strip()
    elif user is not None:
        user_id = as_text(user, where, "completed_by")
    return name or _created_username(where, annotation) or user_id


def _created_username(where: str, annotation: dict) -> str:
    username = _TRAILING_ID_RE.sub("", as_text(annotation.get("created_username"), where, "created_username"))
    email = _EMAIL_RE.search(username)
    return email[0] if email else username.strip()
