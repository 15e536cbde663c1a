"""A dataset's candidates page: the settings (blocking for matching, depth and pool for relevance), the run in
progress, and past runs' reports."""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import ApplicationError
from config.jobs.views import job_action_response
from datasets.models import Dataset, Role, TaskType
from datasets.selectors import dataset_get
from labeling.kinds.matching.blocking import FIELDS, KEYS, MAX_K, BlockingConfig
from labeling.kinds.relevance.candidates import DEPTH, MAX_DEPTH, POOL
from workspace.models import CandidateRun
from workspace.selectors import candidate_run_get, candidate_run_list
from workspace.services.candidates import candidate_run_create, candidate_run_retry

SHOWN = 20
KEY_LABELS = {
    "model": "Model numbers in the title",
    "gtin": "GTIN / EAN / UPC / MPN attribute",
    "brand_size": "Brand + size",
}


class CandidateForm(forms.Form):
    k = forms.IntegerField(min_value=1, max_value=MAX_K, label="Neighbours per product (k)")
    fields = forms.MultipleChoiceField(
        choices=[(name, name) for name in FIELDS], widget=forms.CheckboxSelectMultiple, label="Compared fields"
    )
    min_similarity = forms.FloatField(min_value=0.0, max_value=0.999, label="Minimum similarity (cosine)")
    keys = forms.MultipleChoiceField(
        choices=[(name, KEY_LABELS[name]) for name in KEYS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Exact keys",
        help_text="Products sharing one of these are proposed whatever their similarity.",
    )
    source_field = forms.CharField(
        max_length=100,
        required=False,
        label="Source field",
        help_text="The product column or attribute naming each product's source (a shop, a catalog).",
    )
    skip_same_source = forms.BooleanField(required=False, label="Skip pairs within one source")

    def settings(self) -> dict[str, Any]:
        return dict(self.cleaned_data)

    def uploads(self) -> dict[str, Any]:
        return {}


class RelevanceCandidateForm(forms.Form):
    depth = forms.IntegerField(
        min_value=1, max_value=MAX_DEPTH, label="Results kept per query (depth)",
        help_text="Each ranker's top results kept for the ranking figures.",
    )
    pool = forms.IntegerField(
        min_value=1, max_value=MAX_DEPTH, label="Judged per query and ranker (pool)",
        help_text="Every product in the top of any ranker becomes a task, once.",
    )
    run_file = forms.FileField(
        required=False, label="Another ranker's results (optional)",
        help_text="A TREC run (qid Q0 docid rank score tag) or a CSV with query_id, product_id and rank columns, "
        "by the dataset's query and product ids: pooled with BM25's and scored on the Queries page.",
    )
    ranker = forms.CharField(
        required=False, max_length=64, label="Ranker name",
        help_text="Names the file's results (a CSV needs it without a ranker column; a TREC run's tag otherwise).",
    )

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in ("depth", "pool")}

    def uploads(self) -> dict[str, Any]:
        if not self.cleaned_data.get("run_file"):
            return {}
        return {"run_file": self.cleaned_data["run_file"], "ranker": self.cleaned_data.get("ranker") or ""}


def _form_class(dataset: Dataset) -> type[CandidateForm] | type[RelevanceCandidateForm]:
    return RelevanceCandidateForm if dataset.task_type == TaskType.RELEVANCE else CandidateForm


def _initial(dataset: Dataset, runs: list[CandidateRun]) -> dict[str, Any]:
    """The last run's settings, so a lead adjusts one instead of starting over; the defaults before any run."""
    if runs:
        params = {name: value for name, value in runs[0].params.items() if name != "run_file"}  # a file is chosen anew
    elif dataset.task_type == TaskType.RELEVANCE:
        params = {"depth": DEPTH, "pool": POOL}
    else:
        params = BlockingConfig().to_dict()
    return {name: params.get(name) for name in _form_class(dataset).base_fields if name in params}


def _runs(dataset: Dataset) -> dict[str, Any]:
    runs = list(candidate_run_list(dataset=dataset)[:SHOWN])
    current = next((run for run in runs if not run.is_finished), None)
    return {"dataset": dataset, "runs": runs, "current": current}


def _candidate_dataset(request: HttpRequest, dataset_id: int) -> Dataset:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    if dataset.task_type not in (TaskType.MATCHING, TaskType.RELEVANCE):
        raise Http404("Candidates are for matching and search relevance datasets.")
    return dataset


@login_required
@require_http_methods(["GET", "POST"])
def candidates_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = _candidate_dataset(request, dataset_id)
    if request.htmx and request.method == "GET":
        return render(request, "workspace/candidates.html#runs", _runs(dataset))
    context = _runs(dataset)
    form = _form_class(dataset)(request.POST or None, request.FILES or None, initial=_initial(dataset, context["runs"]))
    if request.method == "POST" and form.is_valid():
        try:
            candidate_run_create(dataset=dataset, user=request.user, params=form.settings(), **form.uploads())
        except ApplicationError as error:
            for name, problems in error.extra.get("fields", {}).items():
                form.add_error(name if name in form.fields else None, problems)
            if not error.extra.get("fields"):
                form.add_error(None, error.message)
        else:
            return redirect("workspace:candidates", dataset_id=dataset.pk)
    status = 400 if form.errors else 200
    return render(request, "workspace/candidates.html", context | {"form": form}, status=status)


@login_required
@require_POST
def candidate_action(request: HttpRequest, run_id: int, action: str) -> HttpResponse:
    """Cancel a waiting or running run (the pairs it wrote stay), or run a failed or cancelled one's settings
    again (a new run)."""
    run = candidate_run_get(user=request.user, run_id=run_id)
    back_to = reverse("workspace:candidates", args=[run.dataset_id])
    return job_action_response(
        request,
        job=run,
        action=action,
        back_to=back_to,
        retry=lambda job: candidate_run_retry(run=job, user=request.user),
    )
