"""A quality report's figures as the dashboard shows them: formatted text, table rows, chart series.

Formatting happens here, not in the template: an undefined figure (None) reads "—" everywhere, and a
number in a style attribute must not follow the locale's decimal separator.
"""

from __future__ import annotations

from typing import Any

DASH = "—"
CHART_LABELS = 30


def percent(value: float | None, digits: int = 0) -> str:
    return DASH if value is None else f"{value * 100:.{digits}f}%"


def decimal(value: float | None, digits: int = 3) -> str:
    return DASH if value is None else f"{value:.{digits}f}"


def count(value: int | None) -> str:
    return DASH if value is None else f"{value:,}"


def gold_text(row: dict[str, Any]) -> str:
    """Accuracy on gold items with its 95% Wilson interval: "80% (49-94%) of 10"."""
    if not row.get("gold_items"):
        return DASH
    low, high = row["gold_interval"]
    return f"{percent(row['gold_accuracy'])} ({low * 100:.0f}-{high * 100:.0f}%) of {row['gold_items']}"


def summary(figures: dict[str, Any], items: str = "products") -> list[dict[str, str]]:
    """The headline figures; `items` names what a task is ("products", or "pairs" for matching)."""
    fleiss = figures.get("fleiss") or {}
    if fleiss.get("items"):
        fleiss_note = f"{fleiss['items']:,} {items} with {fleiss['raters_per_item']} answers each"
    else:
        fleiss_note = f"needs {items} with 2+ answers"
    counts = [
        {"name": "Answers", "value": count(figures.get("answers", 0))},
        {"name": items.capitalize(), "value": count(figures.get("items", 0))},
        {"name": f"{items.capitalize()} with 2+ answers", "value": count(figures.get("items_with_overlap", 0))},
    ]
    if "spans" in figures:
        # Span answers agree in part: whole-answer agreement, then the span figures (`spans`).
        tokens = figures["spans"].get("tokens") or {}
        return [
            *counts,
            {"name": "Whole answers equal", "value": percent(figures.get("percent_agreement"), 1)},
            {"name": "Span F1, exact", "value": percent(figures["spans"]["exact"]["f1"], 1)},
            {"name": "Span F1, overlapping", "value": percent(figures["spans"]["overlap"]["f1"], 1)},
            {"name": "Token kappa", "value": decimal(tokens.get("kappa")), "note": "mean over pairs"},
            {"name": "Gold items", "value": count(figures.get("gold_items", 0))},
        ]
    return [
        *counts,
        {"name": "Percent agreement", "value": percent(figures.get("percent_agreement"), 1)},
        {"name": "Fleiss' kappa", "value": decimal(fleiss.get("kappa")), "note": fleiss_note},
        {"name": "Krippendorff's alpha", "value": decimal(figures.get("alpha"))},
        *(
            [
                {"name": "Alpha, ordinal", "value": decimal(figures["alpha_ordinal"]), "note": "by grade order"},
                {"name": "Alpha, interval", "value": decimal(figures.get("alpha_interval")), "note": "by grade value"},
            ]
            if "alpha_ordinal" in figures
            else []
        ),
        {"name": "Gold items", "value": count(figures.get("gold_items", 0))},
    ]


def levels(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Agreement per taxonomy depth; nothing when the taxonomy is flat (the summary already says it)."""
    rows = figures.get("levels") or []
    if len(rows) < 2:
        return []
    return [
        {
            "depth": str(row["depth"]),
            "ratings": count(row["ratings"]),
            "percent_agreement": percent(row["percent_agreement"], 1),
            "alpha": decimal(row["alpha"]),
        }
        for row in rows
    ]


def charts(figures: dict[str, Any]) -> dict[str, Any]:
    """The four charts' series (for json_script), each also shown as a table; an empty one is left out."""
    days = figures.get("activity") or []
    per_label = figures.get("per_label") or []
    used = sorted((row for row in per_label if row["answers"]), key=lambda row: (-row["answers"], row["path"]))
    rated = sorted(
        (row for row in per_label if row.get("specific_agreement") is not None),
        key=lambda row: (row["specific_agreement"], -row["answers"], row["path"]),
    )
    result: dict[str, Any] = {}
    if days:
        result["progress"] = {"labels": [day["day"] for day in days], "values": [day["labeled_total"] for day in days]}
        result["throughput"] = {"labels": [day["day"] for day in days], "values": [day["answers"] for day in days]}
    if used:
        shown = used[:CHART_LABELS]
        result["distribution"] = {
            "labels": [row["path"] for row in shown],
            "values": [row["answers"] for row in shown],
            "of": len(used),
        }
    if rated:
        shown = rated[:CHART_LABELS]
        result["agreement"] = {
            "labels": [row["path"] for row in shown],
            "values": [row["specific_agreement"] for row in shown],
            "answers": [row["answers"] for row in shown],
            "of": len(rated),
        }
    return result


# A day chart of a few points is as wide as they need: stretched over a wide card, one point floats in 900 px of
# axis and a single bar fills it.
FEW_DAYS = 8


def day_chart_width(series: dict[str, Any]) -> str:
    """The CSS max-width of the progress and throughput charts: none past FEW_DAYS days, else about 5rem a day."""
    days = len(series.get("progress", {}).get("labels", []))
    return f"{8 + 5 * days}rem" if 0 < days < FEW_DAYS else "none"


def chart_tables(series: dict[str, Any]) -> dict[str, list[tuple[str, ...]]]:
    """The charts' numbers as rows of text, for the <details> tables under each chart."""
    tables: dict[str, list[tuple[str, ...]]] = {}
    for name in ("progress", "throughput", "distribution"):
        if name in series:
            labels, values = series[name]["labels"], series[name]["values"]
            tables[name] = [(label, f"{value:,}") for label, value in zip(labels, values, strict=True)]
    if "agreement" in series:
        chart = series["agreement"]
        tables["agreement"] = [
            (label, percent(value, 1), f"{answers:,}")
            for label, value, answers in zip(chart["labels"], chart["values"], chart["answers"], strict=True)
        ]
    return tables


def annotators(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per annotator (or import source), the most labels first."""
    rows = sorted(figures.get("annotators") or [], key=lambda row: (-row["labels"], row["name"]))
    return [
        {
            "name": row["name"],
            "labels": count(row["labels"]),
            "skips": count(row["skips"]),
            "labels_per_hour": decimal(row["labels_per_hour"], 1),
            "median_seconds": decimal(row["median_seconds"], 1),
            "majority": f"{percent(row['majority_agreement'])} of {row['majority_items']}"
            if row["majority_items"]
            else DASH,
            "gold": gold_text(row),
            "distance": decimal(row["distribution_distance"], 2),
            "flags": row["flags"],
        }
        for row in rows
    ]


def pairs(figures: dict[str, Any]) -> list[dict[str, str]]:
    """Cohen's kappa per pair of annotators, the lowest first (an undefined kappa last)."""
    rows = sorted(
        figures.get("pairs") or [],
        key=lambda pair: (pair["kappa"] is None, pair["kappa"] or 0, -pair["items"]),
    )
    return [
        {
            "name_a": pair["name_a"] or f"user {pair['rater_a']}",
            "name_b": pair["name_b"] or f"user {pair['rater_b']}",
            "items": count(pair["items"]),
            "agreement": percent(pair["agreement"], 1),
            "kappa": decimal(pair["kappa"]),
            # Only for ordered answers: quadratic weights, a grade apart costs 1, two apart 4.
            "weighted_kappa": decimal(pair["weighted_kappa"]) if "weighted_kappa" in pair else None,
        }
        for pair in rows
    ]


def confusion(figures: dict[str, Any]) -> dict[str, Any] | None:
    """The labels-by-labels heat map; a cell's shade is its share of the row (the pairs involving its label)."""
    data = figures.get("confusion") or {}
    labels, matrix = data.get("labels") or [], data.get("matrix") or []
    if not labels or not any(any(row) for row in matrix):
        return None
    columns = [_named(path) for path in labels]
    rows = []
    for i, (label, counts) in enumerate(zip(columns, matrix, strict=True)):
        total = sum(counts)
        cells = []
        for j, (column, value) in enumerate(zip(columns, counts, strict=True)):
            share = value / total if total else 0.0
            cells.append({
                "count": value,
                "diagonal": i == j,
                "alpha": f"{share:.2f}",
                "dark": share > 0.55,
                "title": f"{label['path']} with {column['path']}: {value} ({share:.0%} of the row's pairs)",
            })
        rows.append({**label, "total": total, "cells": cells})
    return {"columns": columns, "rows": rows}


def _named(path: str) -> dict[str, str]:
    parent, _, leaf = path.rpartition(" > ")
    return {"path": path, "parent": parent, "leaf": leaf}


def spans(figures: dict[str, Any]) -> dict[str, Any] | None:
    """A span dataset's agreement: span F1 (exact, overlapping) overall, per type and per pair of annotators,
    and token kappa; None for other kinds."""
    data = figures.get("spans")
    if not data:
        return None
    tokens = data.get("tokens") or {}
    token_kappas = {(pair["annotator_a"], pair["annotator_b"]): pair["kappa"] for pair in tokens.get("pairs", [])}
    overall = [
        {"match": match, "precision": percent(data[match]["precision"], 1), "recall": percent(data[match]["recall"], 1),
         "f1": percent(data[match]["f1"], 1), "item_f1": percent(data[match]["item_f1"], 1)}
        for match in ("exact", "overlap")
    ]
    return {
        "items": count(data.get("items", 0)),
        "overall": overall,
        "token_kappa": decimal(tokens.get("kappa")),
        "token_alpha": decimal(tokens.get("alpha")),
        "per_label": [
            {"label": label, "exact": percent(f1s["exact"], 1), "overlap": percent(f1s["overlap"], 1)}
            for label, f1s in (data.get("per_label") or {}).items()
        ],
        "preannotation": [
            {"label": row["label"], "products": count(row.get("products")), "hit_rate": percent(row.get("hit_rate"), 1),
             "precision": percent(row["precision"], 1), "recall": percent(row["recall"], 1)}
            for row in (data.get("preannotation") or {}).get("types", [])
        ],
        "preannotation_tasks": count((data.get("preannotation") or {}).get("answered_tasks")),
        "pairs": [
            {"name_a": pair["annotator_a"], "name_b": pair["annotator_b"], "items": count(pair["items"]),
             "exact": percent(pair["exact"]["f1"], 1), "overlap": percent(pair["overlap"]["f1"], 1),
             "kappa": decimal(token_kappas.get((pair["annotator_a"], pair["annotator_b"])))}
            for pair in data.get("pairs") or []
        ],
    }


def dashboard(figures: dict[str, Any], items: str = "products") -> dict[str, Any]:
    series = charts(figures)
    return {
        "spans": spans(figures),
        "summary": summary(figures, items),
        "levels": levels(figures),
        "charts": series,
        "chart_tables": chart_tables(series),
        "day_chart_width": day_chart_width(series),
        "annotators": annotators(figures),
        "pairs": pairs(figures),
        "confusion": confusion(figures),
    }
