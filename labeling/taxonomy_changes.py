"""A lead's taxonomy changes mid-project (issue 15): each one transaction over datasets' label table (its services)
and labeling's answers (`taxonomy_remap`), recorded once as a `TaxonomyChange`.

- rename / move: only paths change; answers keep their label id, so exports (which resolve paths at export time),
  history and models follow without touching an answer.
- merge A into B: A's answers, review decisions, gold labels and suggestions move to B (one LabelEvent per answer
  and decision that changed, written set-based); A stays, deprecated with `merged_into` = B, because the history's
  events still name it (they are append-only) and an older model version may still predict its id.
- deprecate: the label (and its subtree) stays for history and exports of old answers, is offered nowhere and
  refused to new answers.
- add a child: when the parent was a leaf, its answered tasks go to review, since some may belong to the child.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from config.errors import ApplicationError
from datasets.models import Dataset, Label, TaxonomyAction, TaxonomyChange
from datasets.services.labels import (
    label_child_create,
    label_relocate,
    labels_deprecate,
    taxonomy_change_counts_set,
    taxonomy_change_record,
)
from labeling.kinds import kind_get
from labeling.taxonomy_remap import label_answers_to_review, labels_remap


def taxonomy_editable_check(*, dataset: Dataset) -> None:
    kind = kind_get(dataset.task_type)
    if kind.fixed_labels:
        raise ApplicationError(
            f"A {kind.title.lower()} dataset's labels are its kind's fixed answers: only categorization datasets "
            "have a taxonomy to edit.",
            extra={"task_type": dataset.task_type},
        )


def _locked(dataset: Dataset, *labels: Label) -> list[Label]:
    """Check the dataset takes edits and lock the labels' rows: two changes of one label never interleave, and an
    answer naming the label waits for the change to commit (its foreign key check takes a share lock)."""
    taxonomy_editable_check(dataset=dataset)
    for label in labels:
        if label.dataset_id != dataset.pk:
            raise ApplicationError("That label is not part of this dataset.", extra={"label": label.pk})
    rows = Label.objects.select_for_update().in_bulk([label.pk for label in labels])
    return [rows[label.pk] for label in labels]


@transaction.atomic
def taxonomy_rename(*, dataset: Dataset, label: Label, name: str, user: AbstractBaseUser) -> TaxonomyChange:
    (label,) = _locked(dataset, label)
    old_path = label.path
    label_relocate(label=label, name=name, parent=label.parent)
    return taxonomy_change_record(
        dataset=dataset, user=user, action=TaxonomyAction.RENAME, label=label, old_path=old_path, new_path=label.path
    )


@transaction.atomic
def taxonomy_move(*, dataset: Dataset, label: Label, parent: Label | None, user: AbstractBaseUser) -> TaxonomyChange:
    """Put the label (with its subtree) under `parent`, or at the top when None."""
    label, *rest = _locked(dataset, label, *([parent] if parent else []))
    old_path = label.path
    label_relocate(label=label, name=label.name, parent=rest[0] if rest else None)
    return taxonomy_change_record(
        dataset=dataset, user=user, action=TaxonomyAction.MOVE, label=label, old_path=old_path, new_path=label.path
    )


@transaction.atomic
def taxonomy_merge(*, dataset: Dataset, source: Label, target: Label, user: AbstractBaseUser) -> TaxonomyChange:
    """Merge `source` into `target`: everything that named `source` names `target`; `source` stays, deprecated."""
    source, target = _locked(dataset, source, target)
    if source.pk == target.pk:
        raise ApplicationError("A label cannot be merged into itself.", extra={"target": target.pk})
    if target.deprecated:
        raise ApplicationError(
            f"{target.path!r} is deprecated: merge into a label still in use.", extra={"target": target.pk}
        )
    if source.children.filter(deprecated=False).exists():
        raise ApplicationError(
            f"{source.path!r} has children: move or merge them first, so none is left without a parent in use.",
            extra={"source": source.pk},
        )
    change = taxonomy_change_record(
        dataset=dataset,
        user=user,
        action=TaxonomyAction.MERGE,
        label=source,
        target=target,
        old_path=source.path,
        new_path=target.path,
    )
    counts = labels_remap(change=change, user=user, old=source, new=target)
    labels_deprecate(label=source, merged_into=target)
    taxonomy_change_counts_set(change=change, counts=counts)
    return change


@transaction.atomic
def taxonomy_deprecate(*, dataset: Dataset, label: Label, user: AbstractBaseUser) -> TaxonomyChange:
    (label,) = _locked(dataset, label)
    if label.deprecated:
        raise ApplicationError(f"{label.path!r} is already deprecated.", extra={"label": label.pk})
    change = taxonomy_change_record(
        dataset=dataset, user=user, action=TaxonomyAction.DEPRECATE, label=label, old_path=label.path
    )
    taxonomy_change_counts_set(change=change, counts={"labels": labels_deprecate(label=label)})
    return change


@transaction.atomic
def taxonomy_add_child(
    *, dataset: Dataset, parent: Label, name: str, user: AbstractBaseUser, code: str = ""
) -> TaxonomyChange:
    """Add a node under `parent`; a parent that was a leaf sends its answered tasks to review."""
    (parent,) = _locked(dataset, parent)
    was_leaf = not parent.children.exists()
    child = label_child_create(parent=parent, name=name, code=code)
    change = taxonomy_change_record(
        dataset=dataset,
        user=user,
        action=TaxonomyAction.ADD_CHILD,
        label=parent,
        target=child,
        old_path=parent.path,
        new_path=child.path,
    )
    taxonomy_change_counts_set(
        change=change, counts={"sent_to_review": label_answers_to_review(label=parent) if was_leaf else 0}
    )
    return change


def taxonomy_change_apply(
    *,
    dataset: Dataset,
    user: AbstractBaseUser,
    action: str,
    label: Label,
    name: str = "",
    parent: Label | None = None,
    target: Label | None = None,
    code: str = "",
) -> TaxonomyChange:
    """One change as the page and the API ask for it: an action and what that action needs."""
    if action == TaxonomyAction.RENAME:
        return taxonomy_rename(dataset=dataset, label=label, name=name, user=user)
    if action == TaxonomyAction.MOVE:
        return taxonomy_move(dataset=dataset, label=label, parent=parent, user=user)
    if action == TaxonomyAction.MERGE:
        if target is None:
            raise ApplicationError("A merge needs the label to merge into (target).", extra={"target": None})
        return taxonomy_merge(dataset=dataset, source=label, target=target, user=user)
    if action == TaxonomyAction.DEPRECATE:
        return taxonomy_deprecate(dataset=dataset, label=label, user=user)
    if action == TaxonomyAction.ADD_CHILD:
        return taxonomy_add_child(dataset=dataset, parent=label, name=name, code=code, user=user)
    raise ApplicationError(f"Unknown taxonomy change {action!r}.", extra={"action": action})
