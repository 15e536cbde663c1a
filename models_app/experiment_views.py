"""The lead's preprocessing experiments page: pick configs, compare their cross-validation, use the best."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRefresh

from config.errors import ApplicationError
from config.jobs.views import job_action_response
from datasets.models import Dataset, Role
from datasets.selectors import dataset_get
from models_app.ml import PRESETS, ConfigError, ModelConfig
from models_app.models import Experiment
from models_app.selectors import experiment_get, experiment_in_dataset, experiment_list
from models_app.services.experiments import (
    CURRENT,
    MAX_CONFIGS,
    MAX_FOLDS,
    MIN_FOLDS,
    experiment_apply,
    experiment_choices,
    experiment_create,
    experiment_retry,
)
from models_app.views import duration_text

DIFFERENCES = {
    "lowercase": lambda v: "lowercased" if v else "case kept",
    "tokenizer": lambda v: "spaCy tokenizer" if v == "spacy" else f"{v} tokenizer",
    "normalize_numbers": lambda v: "numbers normalized" if v else "numbers kept as written",
    "word_ngrams": lambda v: "single words" if v == [1, 1] else f"word {v[0]}–{v[1]}-grams",
    "char_ngrams": lambda v: f"character {v[0]}–{v[1]}-grams" if v else "no character n-grams",
    "max_features": lambda v: f"vocabulary of {v:,} terms" if v else "no vocabulary cap",
    "min_df": lambda v: f"terms in at least {v} products",
    "sublinear_tf": lambda v: "log-scaled counts" if v else "raw counts",
    "fields": lambda v: f"text from {', '.join(v)}",
    "classifier": lambda v: {
        "logreg": "logistic regression", "linear_svm": "linear SVM", "sgd": "SGD", "taxonomy": "level by level"
    }.get(v, v),
    "C": lambda v: f"C = {v:g}",
    "class_weight": lambda v: "balanced class weights" if v else "unweighted classes",
}


def _differences(config: dict) -> str:
    """What a config changes against the default, in plain words; the holdout plays no part in cross-validation."""
    default = ModelConfig().to_dict()
    changed = [
        DIFFERENCES[key](value)
        for part, base in ((config.get("features", {}), default["features"]), (config, default))
        for key, value in part.items()
        if key in DIFFERENCES and value != base.get(key)
    ]
    return "; ".join(changed) or "the default"


def _titles() -> dict[str, str]:
    return {name: title for name, title, _ in experiment_choices()}


def _rows(experiment: Experiment, in_use: dict | None) -> list[dict]:
    titles = _titles()
    rows = []
    for result in experiment.results:
        rows.append(
            {
                **result,
                "title": titles.get(result["name"], result["name"]),
                "differences": _differences(result["config"]),
                "in_use": result["config"] == in_use,
                "best": not rows and "error" not in result,
            }
        )
    return rows


def _in_use(dataset: Dataset) -> dict | None:
    """The dataset's config as the experiments record configs, so a result that matches it can say so."""
    try:
        return ModelConfig.from_dict(dataset.model_config or {}).to_dict()
    except ConfigError:
        return None


def _experiment_context(dataset: Dataset, experiment: Experiment | None) -> dict:
    context: dict = {"dataset": dataset, "experiment": experiment}
    if experiment is not None:
        ended = experiment.finished_at or (timezone.now() if experiment.started_at else None)
        context |= {
            "rows": _rows(experiment, _in_use(dataset)),
            "titles": [_titles().get(name, name) for name in experiment.configs],
            "note": next((r["note"] for r in experiment.results if r.get("note")), ""),
            "took": duration_text((ended - experiment.started_at).total_seconds() if experiment.started_at else None),
        }
    return context


def _best(experiment: Experiment) -> str:
    """The winner of a past experiment and its mean accuracy, for the list."""
    best = next(iter(experiment.results), {})
    if "accuracy_mean" not in best:
        return ""
    return f"{_titles().get(best['name'], best['name'])} ({best['accuracy_mean']:.3f})"


def _chosen(dataset: Dataset, raw: str, recent: list[Experiment]) -> Experiment | None:
    """The experiment named by ?experiment=, else the newest one."""
    if not raw:
        return recent[0] if recent else None
    # ASCII digits only: str.isdigit() takes "²", which int() refuses.
    if not (raw.isascii() and raw.isdigit()):
        raise Http404("No such experiment in this dataset.")
    return experiment_in_dataset(dataset=dataset, experiment_id=int(raw))


@login_required
@require_http_methods(["GET", "POST"])
def experiment_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    page_url = reverse("models_app:experiments", args=[dataset.pk])
    current_is_default = _in_use(dataset) == ModelConfig().to_dict()
    # With the current config the same as the default, running both would only repeat the work.
    form = {"names": [*([] if current_is_default else [CURRENT]), *PRESETS], "folds": "5", "error": ""}
    if request.method == "POST":
        form = {"names": request.POST.getlist("names"), "folds": request.POST.get("folds", "").strip(), "error": ""}
        try:
            folds = int(form["folds"]) if form["folds"].isdigit() else -1
            experiment = experiment_create(dataset=dataset, user=request.user, names=form["names"], folds=folds)
        except ApplicationError as error:
            form["error"] = error.message
        else:
            messages.success(request, "The experiment is queued; the worker cross-validates each config in turn.")
            return redirect(f"{page_url}?experiment={experiment.pk}")
    if request.htmx and request.method == "GET":
        experiment = _chosen(dataset, request.GET.get("experiment", ""), [])
        # The poll stops once the run is over; the whole page then reloads to update the list too.
        if request.GET.get("poll") and (experiment is None or experiment.is_finished):
            return HttpResponseClientRefresh()
        return render(request, "models_app/experiments.html#experiment", _experiment_context(dataset, experiment))
    experiments = list(experiment_list(dataset=dataset)[:20])
    for past in experiments:
        past.best = _best(past)
    experiment = _chosen(dataset, request.GET.get("experiment", ""), experiments)
    context = _experiment_context(dataset, experiment) | {
        "experiments": experiments,
        "choices": experiment_choices(),
        "current_is_default": current_is_default,
        "form": form,
        "max_configs": MAX_CONFIGS,
        "min_folds": MIN_FOLDS,
        "max_folds": MAX_FOLDS,
    }
    return render(request, "models_app/experiments.html", context, status=400 if form["error"] else 200)


@login_required
@require_POST
def experiment_use(request: HttpRequest, experiment_id: int) -> HttpResponse:
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    name = request.POST.get("name", "")
    try:
        experiment_apply(experiment=experiment, name=name, user=request.user)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        title = _titles().get(name, name)
        messages.success(request, f"“{title}” is now the dataset's model config; the next training uses it.")
    return redirect(f"{reverse('models_app:experiments', args=[experiment.dataset_id])}?experiment={experiment.pk}")


@login_required
@require_POST
def experiment_action(request: HttpRequest, experiment_id: int, action: str) -> HttpResponse:
    """Cancel a waiting or running experiment, or retry a failed or cancelled one (as a new experiment)."""
    experiment = experiment_get(user=request.user, experiment_id=experiment_id)
    return job_action_response(
        request,
        job=experiment,
        action=action,
        back_to=reverse("models_app:experiments", args=[experiment.dataset_id]),
        retry=lambda job: experiment_retry(experiment=job, user=request.user),
    )
