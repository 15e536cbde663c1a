from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform
from django.http import Http404

from datasets.models import Dataset, Label
from datasets.selectors import lead_object_get
from labeling.label_stats import labeling_rate
from models_app.models import Experiment, ModelVersion, VersionStatus


def model_version_list(*, dataset: Dataset) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(dataset=dataset)


def model_version_get(*, user: AbstractBaseUser, version_id: int) -> ModelVersion:
    return lead_object_get(ModelVersion.objects.all(), user=user, pk=version_id, missing="No such model version.")


def model_version_active(*, dataset: Dataset) -> ModelVersion | None:
    return ModelVersion.objects.filter(dataset=dataset, is_active=True).first()


# The model page: the versions table, the learning curve and its forecast, one version's report.

# The keys of `metrics` that `models_app.ml.headline` reads: everything but the per-class figures and the confusion.
HEADLINE_KEYS = (
    "n", "evaluated_on", "folds", "accuracy", "accuracy_interval", "macro_f1", "level_accuracy",
    "level_accuracy_intervals",
    # A matcher's (models_app.ml.match_metrics): its figures at its threshold.
    "threshold", "precision", "recall", "f1", "average_precision",
    # A span tagger's (models_app.services.spans): the spans its holdout holds, besides its micro figures.
    "spans",
)


def _with_headline_keys(versions: QuerySet[ModelVersion]) -> QuerySet[ModelVersion]:
    return versions.annotate(**{f"metric_{key}": KeyTransform(key, "metrics") for key in HEADLINE_KEYS})


def headline_metrics(version: ModelVersion) -> dict:
    """The headline keys of a version annotated by `_with_headline_keys`, as the metrics dict they came from."""
    return {key: value for key in HEADLINE_KEYS if (value := getattr(version, f"metric_{key}")) is not None}


def model_version_table(*, dataset: Dataset, limit: int = 20) -> QuerySet[ModelVersion]:
    """The newest versions with their headline figures; the heavy JSON (confusion matrices) stays in the database."""
    versions = model_version_list(dataset=dataset).defer("config", "split", "metrics", "timings")
    return _with_headline_keys(versions)[:limit]


def learning_curve(*, dataset: Dataset) -> tuple[list[list], list[dict]]:
    """The measured points of succeeded versions, fewest labels first, and the versions measured too little to plot.

    A point is [labels trained on, accuracy, interval low, interval high]; a version with too few held-out labels
    gives no point (its figure would be noise read as exact) but {"number", "labels", "reason"}.
    """
    from models_app.ml import headline

    versions = _with_headline_keys(
        ModelVersion.objects.filter(dataset=dataset, status=VersionStatus.SUCCEEDED).defer(
            "config", "split", "metrics", "timings"
        )
    ).order_by("label_count", "number")
    points, withheld = [], []
    for version in versions:
        metrics = headline_metrics(version)
        if "threshold" in metrics or "spans" in metrics:
            continue  # a matcher's or a tagger's: an F1 is no accuracy, and this curve forecasts accuracy
        shown = headline(metrics)
        if shown["withheld"]:
            withheld.append({"number": version.number, "labels": version.label_count, "reason": shown["withheld"]})
        else:
            low, high = shown["accuracy_interval"]
            points.append([version.label_count, float(shown["accuracy"]), low, high])
    return points, withheld


def forecast_for(*, dataset: Dataset, target: float) -> dict:
    """The learning-curve forecast for `target` accuracy, with the hours its further labels take at the current rate.

    Only versions measured on enough held-out labels are points of the curve (see `learning_curve`).
    The curve counts labeled products; with overlap each product takes `overlap` annotations, hence the factor.
    """
    # Imported here: the first use of models_app.ml's forecast loads SciPy, which only this page needs.
    from models_app.ml import forecast

    points, withheld = learning_curve(dataset=dataset)
    result = forecast(points=[(labels, accuracy) for labels, accuracy, *_ in points], target=target)
    rate = labeling_rate(dataset=dataset)
    more = result.get("more_labels")
    hours = more * dataset.overlap / rate if more is not None and rate > 0 else None
    return {**result, "points": points, "withheld": withheld, "target": target, "rate": rate, "hours": hours}


def model_version_report(*, version: ModelVersion, max_classes: int = 25) -> dict:
    """Per-class figures worst F1 first, and the confusion matrix of the most frequent classes, with label paths.

    Heat-map shading is each cell's share of its row (of the true class), so small classes show their errors
    as clearly as big ones. Predictions outside the shown classes are summed in an "other" column.
    """
    metrics = version.metrics or {}
    per_class = metrics.get("per_class") or {}
    confusion = metrics.get("confusion") or {}
    labels, matrix = confusion.get("labels") or [], confusion.get("matrix") or []
    ids = [int(i) for i in {*per_class, *labels} if str(i).isdigit()]
    labeled = Label.objects.filter(dataset=version.dataset_id, pk__in=ids)
    paths = {str(pk): path for pk, path in labeled.values_list("pk", "path")}

    def named(label_id: str) -> dict:
        path = paths.get(str(label_id), f"Deleted label #{label_id}")
        parent, _, leaf = path.rpartition(" > ")
        return {"id": label_id, "path": path, "parent": parent, "leaf": leaf}

    classes = sorted(
        ({**named(label_id), **figures} for label_id, figures in per_class.items()),
        key=lambda row: (row["support"] == 0, row["f1"], -row["support"]),
    )

    totals = [sum(row) for row in matrix]
    shown = sorted(range(len(labels)), key=lambda i: -totals[i])[:max_classes]
    shown.sort(key=lambda i: paths.get(str(labels[i]), ""))
    columns = [named(labels[j]) for j in shown]
    rows = []
    for i in shown:
        true = named(labels[i])
        counts = [matrix[i][j] for j in shown]
        cells = [
            _cell(count, totals[i], diagonal=i == j, true=true, predicted=column)
            for count, j, column in zip(counts, shown, columns, strict=True)
        ]
        rows.append({**true, "total": totals[i], "cells": cells, "other": totals[i] - sum(counts)})
    return {
        "classes": classes,
        "confusion": {
            "columns": columns,
            "rows": rows,
            "class_count": len(labels),
            "truncated": len(shown) < len(labels),
        },
    }


def _cell(count: int, total: int, *, diagonal: bool, true: dict, predicted: dict) -> dict:
    share = count / total if total else 0.0
    return {
        "count": count,
        "diagonal": diagonal,
        # Formatted here: a float in a template would follow the locale's decimal separator, which CSS rejects.
        "alpha": f"{share:.2f}",
        "dark": share > 0.55,
        "title": f"True {true['path']}, predicted {predicted['path']}: {count} ({share:.0%} of the true class)",
    }


def experiment_list(*, dataset: Dataset) -> QuerySet[Experiment]:
    return Experiment.objects.filter(dataset=dataset).select_related("requested_by")


def experiment_in_dataset(*, dataset: Dataset, experiment_id: int) -> Experiment:
    """One experiment of a dataset the caller already scoped; another dataset's is a 404 like a missing one."""
    experiment = experiment_list(dataset=dataset).filter(pk=experiment_id).first()
    if experiment is None:
        raise Http404("No such experiment in this dataset.")
    return experiment


def experiment_get(*, user: AbstractBaseUser, experiment_id: int) -> Experiment:
    experiments = Experiment.objects.select_related("dataset", "requested_by")
    return lead_object_get(experiments, user=user, pk=experiment_id, missing="No such experiment.")
