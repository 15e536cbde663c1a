"""The lead's Taxonomy page: the tree with counts per node, the recent changes, and the changes' forms (issue 15)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError
from datasets.models import Dataset, Role, TaxonomyAction
from datasets.selectors import dataset_get, label_get
from datasets.services.label_synonyms import label_synonyms_set
from labeling.kinds import kind_get
from labeling.taxonomy_changes import taxonomy_change_apply
from labeling.taxonomy_selectors import (
    taxonomy_change_list,
    taxonomy_change_summary,
    taxonomy_label_find,
    taxonomy_path_options,
    taxonomy_tree_view,
)


def _context(dataset: Dataset, query: str = "", **extra: object) -> dict:
    kind = kind_get(dataset.task_type)
    return {
        "dataset": dataset,
        "editable": not kind.fixed_labels,
        "kind": kind,
        "query": query,
        "tree": taxonomy_tree_view(dataset=dataset, query=query),
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
    selected = request.GET.get("label", "")
    extra = {"selected": label_get(dataset=dataset, pk=int(selected))} if selected.isdigit() else {}
    return _render(request, _context(dataset, query=request.GET.get("q", ""), **extra))


@login_required
@require_GET
def taxonomy_branch(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """One branch's children when its node is opened, or the nodes matching the tree's search."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    parent = request.GET.get("parent", "")
    tree = taxonomy_tree_view(
        dataset=dataset, parent_id=int(parent) if parent.isdigit() else None, query=request.GET.get("q", "")
    )
    return render(request, "labeling/taxonomy.html#tree-nodes", {"dataset": dataset, "tree": tree})


@login_required
@require_GET
def taxonomy_paths(request: HttpRequest, dataset_id: int) -> HttpResponse:
    """The action forms' suggestions: the paths holding what the lead typed in whichever field asked."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    typed = next((request.GET[key] for key in ("label", "parent", "target") if request.GET.get(key)), "")
    paths = taxonomy_path_options(dataset=dataset, query=typed)
    return render(request, "labeling/taxonomy.html#path-options", {"paths": paths})


@login_required
@require_http_methods(["GET", "POST"])
def taxonomy_synonyms(request: HttpRequest, dataset_id: int, label_id: int) -> HttpResponse:
    """One label's synonyms form: shown when the lead picks the label in the tree, saved through the service."""
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    label = label_get(dataset=dataset, pk=label_id)
    context: dict[str, object] = {"dataset": dataset, "selected": label, "editable": True}
    if request.method == "POST":
        try:
            label_synonyms_set(label=label, synonyms=request.POST.get("synonyms", "").splitlines())
        except ApplicationError as error:
            context["synonyms_error"] = error.message
            context["synonyms_text"] = request.POST.get("synonyms", "")
            return render(request, "labeling/taxonomy.html#label-panel", context, status=400)
        context["synonyms_notice"] = f"Saved {len(label.synonyms)} synonyms of {label.path}."
        if not request.htmx:
            messages.success(request, context["synonyms_notice"])
            return redirect(f"{reverse('labeling:taxonomy', args=[dataset.pk])}?label={label.pk}")
    if not request.htmx:
        return _render(request, _context(dataset, selected=label))
    return render(request, "labeling/taxonomy.html#label-panel", context)


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
