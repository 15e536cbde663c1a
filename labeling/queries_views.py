"""A relevance dataset's Queries page, for its leads: each ranker scored against the judgments, per query too."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from config.errors import ApplicationError
from datasets.models import Dataset, Role, TaskType
from datasets.selectors import dataset_get
from labeling.kinds.relevance.report import cutoff_parse, ranking_report
from labeling.resolve import LabelPolicy

ROWS = 100  # per-query rows a page shows
_POLICIES = ((LabelPolicy.MAJORITY.value, "majority vote"), (LabelPolicy.FINAL.value, "final labels only"))


def relevance_dataset_get(request: HttpRequest, dataset_id: int) -> Dataset:
    """The relevance dataset the request's user leads (403 for its annotators, 404 for another kind)."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    if dataset.task_type != TaskType.RELEVANCE:
        raise Http404("Ranking figures are for search relevance datasets.")
    return dataset


@login_required
@require_GET
def queries_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = relevance_dataset_get(request, dataset_id)
    k = request.GET.get("k") or "10"
    policy = request.GET.get("policy") or LabelPolicy.MAJORITY
    order = request.GET.get("order") or "spread"
    context = {"dataset": dataset, "k": k, "policy": policy, "order": order, "policies": _POLICIES}
    try:
        report = ranking_report(dataset=dataset, k=cutoff_parse(k), policy=policy, order=order)
    except ApplicationError as error:
        return render(request, "labeling/kinds/relevance/queries.html", context | {"error": error.message}, status=400)
    rankers = [ranker["name"] for ranker in report["rankers"]]
    page = Paginator(report["per_query"], ROWS).get_page(request.GET.get("page"))
    # The template cannot look a ranker up by name: each row's figures in the rankers' order.
    rows = [row | {"figures": [row["rankers"].get(name) for name in rankers]} for row in page]
    context |= {"report": report, "page": page, "rows": rows, "rankers": rankers}
    template = "labeling/kinds/relevance/queries.html"
    return render(request, f"{template}#per-query" if request.htmx else template, context)

