"""An export's parameters: checked and normalized once, when the snapshot is asked for, then fixed with it."""

from __future__ import annotations

from typing import Any

from config.errors import ApplicationError
from datasets.exporters.splits import parse_fractions
from datasets.models import Dataset
from labeling.kinds import kind_get
from labeling.kinds.matching.clustering import CLUSTER_FORMATS
from labeling.kinds.matching.clustering import LABELED as CLUSTER_LABELED
from labeling.kinds.matching.clustering import PREDICTED as CLUSTER_PREDICTED
from labeling.kinds.spans.export import ONE_ANSWER_FORMATS as SPAN_ONE_ANSWER_FORMATS
from labeling.resolve import LabelPolicy
from models_app.selectors import model_version_active
from workspace.models import ExportFormat

DEFAULTS: dict[str, Any] = {
    "min_agreement": 0.5,
    "min_votes": 1,
    "include_flagged": False,
    "include_suggestions": False,
    "split": None,
    "seed": 0,
    "min_confidence": 0.0,
}
# What a predicted export is written as: a table of the catalog's products.
PREDICTED_FORMATS = (ExportFormat.CSV, ExportFormat.JSONL, ExportFormat.JSON, ExportFormat.PARQUET)


def export_params_clean(
    *, fmt: str, policy: str, options: dict[str, Any] | None = None, dataset: Dataset | None = None
) -> dict[str, Any]:
    """Every parameter of a snapshot, normalized, defaults filled in; ApplicationError names a bad one.

    With the `dataset`, also what its task kind cannot export (a format it does not offer, suggestions it has not).
    """
    if fmt not in ExportFormat.values:
        raise ApplicationError(f"Unknown export format {fmt!r}; choose one of {', '.join(ExportFormat.values)}.")
    if dataset is not None:
        _kind_check(dataset, fmt, options or {})
    if policy not in LabelPolicy.values:
        raise ApplicationError(f"Unknown label policy {policy!r}; choose one of {', '.join(LabelPolicy.values)}.")
    options = {key: value for key, value in (options or {}).items() if value is not None}
    cluster_matches = options.pop("cluster_matches", None)
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ApplicationError(f"Unknown export options: {', '.join(sorted(unknown))}.")
    params = {"format": fmt, "policy": policy, **DEFAULTS, **options}
    if policy == LabelPolicy.PREDICTED:
        params |= _predicted_params(fmt, params, dataset)
    if fmt in CLUSTER_FORMATS or cluster_matches is not None:
        params |= _cluster_params(fmt, policy, params, cluster_matches, dataset)
    if not _is_number(params["min_agreement"]) or not 0 < params["min_agreement"] <= 1:
        raise ApplicationError("min_agreement must be a number above 0 and at most 1 (a share of the votes).")
    params["min_agreement"] = float(params["min_agreement"])
    if not _is_whole(params["min_votes"]) or params["min_votes"] < 1:
        raise ApplicationError("min_votes must be a whole number, at least 1.")
    if not _is_whole(params["seed"]) or not 0 <= params["seed"] < 2**32:
        raise ApplicationError("seed must be a whole number between 0 and 4294967295.")
    params["min_votes"], params["seed"] = int(params["min_votes"]), int(params["seed"])
    if not _is_number(params["min_confidence"]) or not 0 <= params["min_confidence"] < 1:
        raise ApplicationError("min_confidence must be a number from 0 up to, not including, 1 (a probability).")
    params["min_confidence"] = float(params["min_confidence"])
    for flag in ("include_flagged", "include_suggestions"):
        if not isinstance(params[flag], bool):
            raise ApplicationError(f"{flag} must be true or false.")
    if params["split"] in (None, ""):
        params["split"] = None
    elif isinstance(params["split"], str) or (
        isinstance(params["split"], list | tuple) and all(_is_number(part) for part in params["split"])
    ):
        try:
            params["split"] = list(parse_fractions(params["split"]))
        except ValueError as error:
            raise ApplicationError(str(error)) from error
    else:
        raise ApplicationError('split must be three fractions (train, dev, test) such as "0.8,0.1,0.1".')
    if fmt == ExportFormat.SPACY and policy == LabelPolicy.RAW:
        # Exclusive textcat takes one class per text; raw rows would give a product several.
        raise ApplicationError("The spaCy format needs one label per product: choose the final or majority policy.")
    if fmt in SPAN_ONE_ANSWER_FORMATS and policy == LabelPolicy.RAW:
        # One document a title and no annotator: raw answers would train on the same title several times over.
        raise ApplicationError(
            f"{ExportFormat(fmt).label} holds one answer per title: choose the final or majority policy, or Prodigy "
            "or Label Studio for every answer with its annotator."
        )
    if fmt == ExportFormat.QRELS and policy == LabelPolicy.RAW:
        # trec_eval reads one grade per (query, product): raw answers would repeat the pair.
        raise ApplicationError("TREC qrels hold one grade per query and product: choose the final or majority policy.")
    if fmt == ExportFormat.QRELS and params["split"]:
        raise ApplicationError(
            "TREC qrels have no split column: export without a split, or choose CSV, JSON Lines, JSON or Parquet."
        )
    if fmt == ExportFormat.DITTO and params["split"]:
        # One file of lines `left \t right \t label`: the split would be computed and then lost.
        raise ApplicationError(
            "Ditto's text format has no split column: export without a split, or choose CSV, JSON Lines, JSON or "
            "Parquet, whose split column gives each pair's part."
        )
    return params


def _predicted_params(fmt: str, params: dict[str, Any], dataset: Dataset | None) -> dict[str, Any]:
    """A predicted export's own parameter: the model version that labels the unlabeled products, fixed with the
    snapshot so a version trained meanwhile does not change what it writes."""
    if dataset is not None and not (kind := kind_get(dataset.task_type)).exports_predictions:
        raise ApplicationError(
            f"A {kind.title.lower()} dataset has no predicted export: choose the final, majority or raw policy.",
            extra={"policy": LabelPolicy.PREDICTED},
        )
    if fmt not in PREDICTED_FORMATS:
        offered = ", ".join(ExportFormat(name).label for name in PREDICTED_FORMATS)
        raise ApplicationError(
            f"A predicted export is a table of products: choose one of {offered}.", extra={"format": fmt}
        )
    if params["split"] not in (None, ""):
        raise ApplicationError(
            "A predicted export is the catalog's output, not a training set: it takes no split.",
            extra={"split": params["split"]},
        )
    version = model_version_active(dataset=dataset) if dataset is not None else None
    if version is None:
        raise ApplicationError(
            "Predicted labels need an active model: train one first, or export final labels.",
            extra={"policy": LabelPolicy.PREDICTED},
        )
    return {"model_version": {"id": version.pk, "number": version.number}}


def _cluster_params(
    fmt: str, policy: str, params: dict[str, Any], matches: str | None, dataset: Dataset | None
) -> dict[str, Any]:
    """A cluster export's own parameters: which matches join products, and the matcher's threshold fixed with the
    snapshot when predicted matches count."""
    if fmt not in CLUSTER_FORMATS:
        raise ApplicationError("cluster_matches applies to the product clusters formats only.")
    matches = matches or CLUSTER_LABELED
    if matches not in (CLUSTER_LABELED, CLUSTER_PREDICTED):
        raise ApplicationError(
            f"Unknown cluster_matches {matches!r}; choose {CLUSTER_LABELED} (labeled matches only) or "
            f"{CLUSTER_PREDICTED} (labeled and predicted matches)."
        )
    if policy == LabelPolicy.RAW:
        raise ApplicationError("Clusters need one answer per pair: choose the final or majority policy.")
    if params["split"] or params["include_suggestions"]:
        raise ApplicationError("A cluster export has one row per product: it takes no split and no suggestions.")
    cluster: dict[str, Any] = {"cluster_matches": matches}
    if matches == CLUSTER_PREDICTED:
        version = model_version_active(dataset=dataset) if dataset is not None else None
        threshold = (version.metrics or {}).get("threshold") if version is not None else None
        if threshold is None:
            raise ApplicationError(
                "Predicted matches need an active matcher, and this dataset has none: train one, or export "
                "labeled matches only.",
                extra={"cluster_matches": matches},
            )
        cluster["cluster_threshold"] = float(threshold)
    return cluster


def _kind_check(dataset: Dataset, fmt: str, options: dict[str, Any]) -> None:
    kind = kind_get(dataset.task_type)
    if fmt not in kind.export_formats:
        asked, offered = ExportFormat(fmt).label, ", ".join(ExportFormat(name).label for name in kind.export_formats)
        raise ApplicationError(
            f"A {kind.title.lower()} dataset cannot be exported as {asked}; choose one of: {offered}.",
            extra={"format": fmt, "formats": list(kind.export_formats)},
        )
    if options.get("include_suggestions") and not kind.exports_suggestions:
        raise ApplicationError(f"{kind.title} has no model suggestions to export.", extra={"include_suggestions": True})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_whole(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()
