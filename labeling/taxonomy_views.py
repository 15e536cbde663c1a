"""The lead's Taxonomy page: the tree with counts per node, the recent changes, and the changes' forms (issue 15)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from config.errors import ApplicationError
from datasets.models import Dataset, Role, TaxonomyAction
from datasets.selectors import dataset_get
from labeling.kinds import kind_get
from labeling.taxonomy_changes import taxonomy_change_apply
from labeling.taxonomy_selectors import (
    taxonomy_change_list,
    taxonomy_change_summary,
    taxonomy_label_find,
    taxonomy_tree,
)


def _context(dataset: Dataset, **extra: object) -> dict:
    kind = kind_get(dataset.task_type)
    return {
        "dataset": dataset,
        "editable": not kind.fixed_labels,
        "kind": kind,
        "nodes": taxonomy_tree(dataset=dataset),
        "changes": taxonomy_change_list(dataset=dataset, limit=20),
        "actions": TaxonomyAction,
        **extra,
    }


def _render(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    template = "labeling/taxonomy.html#taxonomy" if request.htmx else "labeling/taxonomy.html"
    return render(request, template, context, status=status)


@login_required
@require_GET
def taxonomy_page(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    return _render(request, _context(dataset))


@login_required
@require_POST
def taxonomy_change(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """Apply one change from the page's forms; a merge first asks for confirmation."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    form = request.POST
    action = form.get("action", "")
    try:
        label = taxonomy_label_find(dataset=dataset, value=form.get("label", ""))
        parent = (
            taxonomy_label_find(dataset=dataset, value=form["parent"], field="parent") if form.get("parent") else None
        )
        target = (
            taxonomy_label_find(dataset=dataset, value=form["target"], field="target") if form.get("target") else None
        )
        if action == TaxonomyAction.MERGE and target is not None and form.get("confirm") != "yes":
            return _render(request, _context(dataset, confirm={"label": label, "target": target}))
        change = taxonomy_change_apply(
            dataset=dataset,
            user=request.user,
            action=action,
            label=label,
            name=form.get("name", ""),
            parent=parent,
            target=target,
            code=form.get("code", ""),
        )
    except ApplicationError as error:
        if request.htmx:
            return _render(request, _context(dataset, error=error.message), status=400)
        messages.error(request, error.message)
        return redirect("labeling:taxonomy", dataset_id=dataset.pk)
    notice = taxonomy_change_summary(change)
    if request.htmx:
        return _render(request, _context(dataset, notice=notice))
    messages.success(request, notice)
    return redirect("labeling:taxonomy", dataset_id=dataset.pk)
