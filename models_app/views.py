"""The lead's model page: the active model's figures, the training runs, the learning curve and its forecast."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.errors import ApplicationError
from config.jobs.views import job_action_response
from datasets.models import Dataset, Role
from datasets.selectors import dataset_get
from labeling.label_stats import suggestion_influence
from models_app.ml import MIN_EVALUATED, headline
from models_app.ml.figures import withheld_reason
from models_app.models import ModelVersion, VersionStatus
from models_app.selectors import (
    forecast_for,
    headline_metrics,
    model_version_active,
    model_version_get,
    model_version_report,
    model_version_table,
)
from models_app.services.catalog_features import catalog_matrix_status
from models_app.services.training import model_version_retry, training_request

DEFAULT_TARGET = 0.95
UNFINISHED = (VersionStatus.QUEUED, VersionStatus.RUNNING, VersionStatus.SCORING)


def _target(raw: str | None) -> float:
    """The target accuracy from ?target=, as a fraction (0.95) or a percentage (95); anything else is the default."""
    try:
        value = float(raw or DEFAULT_TARGET)
    except ValueError:
        return DEFAULT_TARGET
    if 1 < value < 100:
        value /= 100
    return value if 0 < value < 1 else DEFAULT_TARGET


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _about(count: float) -> str:
    """A forecast is rough: two significant figures, with thousands separators."""
    if count < 1:
        return f"{count:.1f}"
    rounded = int(float(f"{count:.2g}")) if count >= 100 else round(count)
    return f"{rounded:,}"


def _forecast_sentence(forecast: dict) -> str:
    target = f"{forecast['target'] * 100:g}%"
    more, hours, rate = forecast.get("more_labels"), forecast.get("hours"), forecast["rate"]
    if more is None:
        return f"No forecast for {target} accuracy yet: {forecast['reason']}."
    if more == 0:
        return (
            f"The fitted curve puts {target} accuracy at about {_about(forecast['labels_needed'])} labels, "
            "no more than the latest model trained on."
        )
    labels = f"About {_about(more)} more {'labels reach' if more != 1 else 'label reaches'} {target} accuracy"
    if hours is None:
        return f"{labels}; nobody has labeled in the last 24 hours, so there is no rate to time it by."
    if hours < 1:
        when = "under an hour"
    elif hours < 1.5:
        when = "about an hour"
    elif hours < 72:
        when = f"about {_about(hours)} hours"
    else:
        when = f"about {_about(hours / 24)} days"
    return f"{labels}: {when} at the current {_about(rate)} labels/hour."


def _versions_context(dataset: Dataset) -> dict:
    versions = list(model_version_table(dataset=dataset))
    for version in versions:
        ended = version.finished_at or (timezone.now() if version.started_at else None)
        version.duration = duration_text((ended - version.started_at).total_seconds() if version.started_at else None)
        measured = headline_metrics(version)
        version.figures = _figures_shown(measured) if "n" in measured else None
    return {
        "dataset": dataset,
        "versions": versions,
        "unfinished": next((v for v in reversed(versions) if v.status in UNFINISHED), None),
    }


def _percent(share: float) -> str:
    return f"{share:.1%}"


def _interval_text(interval: list[float] | None) -> str:
    # Whole percents: the interval's own width makes a decimal meaningless.
    return f"{interval[0]:.0%}–{interval[1]:.0%}" if interval else ""


def _measured_on(shown: dict) -> str:
    n = f"{shown['n']:,}"
    if shown["evaluated_on"] == "cross-validation":
        return f"{n} labels, {shown['folds']}-fold cross-validation"
    return f"{n} held-out labels"


def _shown(shown: dict) -> dict:
    """A headline (models_app.ml.headline) as text: each figure with its 95% interval, or the reason there is none."""
    if shown["withheld"]:
        return {"withheld": shown["withheld"]}
    return {
        "withheld": "",
        "accuracy": _percent(shown["accuracy"]),
        "interval": _interval_text(shown["accuracy_interval"]),
        "macro_f1": f"{shown['macro_f1']:.3f}" if shown["macro_f1"] is not None else "",
        "levels": [
            {"accuracy": _percent(level["accuracy"]), "interval": _interval_text(level["interval"])}
            for level in shown["level_accuracy"]
        ]
        if len(shown["level_accuracy"]) > 1
        else [],
        "measured_on": _measured_on(shown),
    }


def _matcher_shown(metrics: dict) -> dict:
    """A matcher's figures (models_app.ml.match_metrics) as text: precision, recall and F1 at its threshold."""
    if metrics.get("f1") is None or metrics["n"] < MIN_EVALUATED:
        return {"withheld": withheld_reason(metrics["n"]), "matcher": True}
    return {
        "withheld": "",
        "matcher": True,
        "precision": _percent(metrics["precision"]),
        "recall": _percent(metrics["recall"]),
        "f1": f"{metrics['f1']:.3f}",
        "threshold": f"{metrics['threshold']:.2f}",
        "average_precision": f"{metrics['average_precision']:.3f}" if metrics.get("average_precision") else "",
        "measured_on": _measured_on({"folds": None, "evaluated_on": None, **metrics}),
    }


def _spans_shown(metrics: dict) -> dict:
    """A span tagger's entity figures (models_app.services.spans): micro precision, recall and F1 and the macro F1
    over the types on its held-out titles, and each type's when the version's full metrics are there."""
    if metrics["n"] < MIN_EVALUATED:
        return {"withheld": withheld_reason(metrics["n"]), "spans": True}
    return {
        "withheld": "",
        "spans": True,
        "precision": _percent(metrics["precision"]),
        "recall": _percent(metrics["recall"]),
        "f1": f"{metrics['f1']:.3f}",
        "macro_f1": f"{metrics['macro_f1']:.3f}",
        "per_type": [
            {"type": name, "precision": _percent(row["precision"]), "recall": _percent(row["recall"]),
             "f1": f"{row['f1']:.3f}", "support": row["support"]}
            for name, row in sorted(metrics.get("per_type", {}).items())
        ],
        "measured_on": f"{metrics['n']:,} held-out titles ({metrics['spans']:,} spans)",
    }


def _figures_shown(metrics: dict) -> dict:
    # A tagger's metrics count spans; a matcher's have an F1 and no accuracy; a categorizer's have an accuracy (or
    # nothing measured).
    if "spans" in metrics:
        return _spans_shown(metrics)
    return _matcher_shown(metrics) if "f1" in metrics else _shown(headline(metrics))


def _ranking_shown(metrics: dict) -> dict | None:
    """A relevance ranker's nDCG@10 on its held-out queries beside BM25's on the same queries; None for a model
    that ranks nothing."""
    if metrics.get("ndcg_at_10") is None:
        return None
    bm25 = metrics.get("bm25_ndcg_at_10")
    return {
        "ndcg": f"{metrics['ndcg_at_10']:.3f}",
        "bm25": f"{bm25:.3f}" if bm25 is not None else "",
        "queries": f"{metrics.get('queries', 0):,}",
    }


def _figures(version: ModelVersion) -> dict:
    metrics, timings = version.metrics or {}, version.timings or {}
    return {
        **_figures_shown(metrics),
        "ranking": _ranking_shown(metrics),
        "labels": f"{version.label_count:,}",
        "scored": f"{version.scored_count:,}",
        "note": metrics.get("note", ""),
        "total": duration_text(timings.get("total_s")),
        "steps": [
            (name, duration_text(timings[key]))
            for name, key in (("gathering labels", "gather_s"), ("training", "train_s"), ("rescoring", "rescore_s"))
            if key in timings
        ],
    }


def _catalog_features_shown(status: dict | None) -> dict | None:
    if status is None:
        return None
    return {**status, **{key: f"{status[key]:,}" for key in ("products", "fitted_on", "added")}}


@login_required
@require_GET
def model_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    context = _versions_context(dataset)
    if request.htmx:
        # The poll stops once the run is over; the whole page then reloads to show the new model.
        if request.GET.get("poll") and context["unfinished"] is None:
            return HttpResponseClientRefresh()
        return render(request, "models_app/models.html#versions", context)
    target = _target(request.GET.get("target"))
    forecast = forecast_for(dataset=dataset, target=target)
    active = model_version_active(dataset=dataset)
    figures = _figures(active) if active else None
    context |= {
        "active": active,
        "figures": figures,
        # Per-class figures and a confusion matrix of a handful of products mislead as much as the accuracy would.
        "report": model_version_report(version=active)
        if figures and not figures["withheld"] and not figures.get("matcher") and not figures.get("spans")
        else None,
        "forecast": forecast,
        "forecast_sentence": _forecast_sentence(forecast),
        "target_percent": f"{target * 100:g}",
        "chart": {"points": forecast["points"], "curve": forecast.get("curve") or [], "target": target},
        "withheld_points": forecast["withheld"],
        "minimum": MIN_EVALUATED,
        "influence": suggestion_influence(dataset=dataset),
        "catalog_features": _catalog_features_shown(catalog_matrix_status(dataset=dataset)),
    }
    return render(request, "models_app/models.html", context)


@login_required
@require_POST
def model_train(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    asked_at = timezone.now()
    try:
        version = training_request(dataset=dataset, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
        return HttpResponseClientRefresh() if request.htmx else redirect("models_app:page", dataset_id=dataset.pk)
    if version.created_at >= asked_at:
        notice = f"Version {version.number} is queued; the worker trains it on the labels there are when it starts."
    else:
        notice = f"Version {version.number} is already waiting to train; it will use the newest labels too."
    if request.htmx:
        return render(request, "models_app/models.html#versions", _versions_context(dataset) | {"notice": notice})
    messages.success(request, notice)
    return redirect("models_app:page", dataset_id=dataset.pk)


# Preprocessing experiments: configs compared by cross-validation, the best made the dataset's config.


@login_required
@require_POST
def model_version_action(request: HttpRequest, version_id: int, action: str) -> HttpResponse:
    """Cancel a waiting or running training run, or retry a failed or cancelled one (as a new version)."""
    version = model_version_get(user=request.user, version_id=version_id)
    return job_action_response(
        request,
        job=version,
        action=action,
        back_to=reverse("models_app:page", args=[version.dataset_id]),
        retry=lambda job: model_version_retry(version=job, user=request.user),
    )
