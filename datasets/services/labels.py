"""Edits of one taxonomy node (issue 15): its name and place, deprecation, a new child, and the change's record.

Only the label table is written here; what answers a change moves is labeling's (`labeling/taxonomy_changes.py`
composes both in one transaction). A subtree's paths change in one UPDATE, however many descendants it has.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F, Max, Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset, Label, TaxonomyAction, TaxonomyChange
from datasets.services.taxonomy import SEPARATOR

PATH_MAX = Label._meta.get_field("path").max_length


def _name_clean(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ApplicationError("A label needs a name.", extra={"name": name})
    if ">" in name:
        raise ApplicationError(
            "A label's name cannot hold '>': it separates the levels of a path.", extra={"name": name}
        )
    if len(name) > 255:
        raise ApplicationError("A label's name takes at most 255 characters.", extra={"name": len(name)})
    return name


def _descendants(label: Label):
    return Label.objects.filter(dataset_id=label.dataset_id, path__startswith=label.path + SEPARATOR)


def label_relocate(*, label: Label, name: str, parent: Label | None) -> Label:
    """Give the label a new name and/or parent: its path, depth and every descendant's follow in one UPDATE."""
    name = _name_clean(name)
    if parent is not None:
        if parent.dataset_id != label.dataset_id:
            raise ApplicationError("The new parent belongs to another dataset.", extra={"parent": parent.pk})
        if parent.pk == label.pk or parent.path.startswith(label.path + SEPARATOR):
            raise ApplicationError(
                "A label cannot move under itself or one of its descendants.", extra={"parent": parent.pk}
            )
        if parent.deprecated:
            raise ApplicationError("The new parent is deprecated.", extra={"parent": parent.pk})
    new_path = f"{parent.path}{SEPARATOR}{name}" if parent else name
    if new_path == label.path:
        raise ApplicationError("The label already has this name and place.", extra={"path": new_path})
    if Label.objects.filter(dataset_id=label.dataset_id, path=new_path).exclude(pk=label.pk).exists():
        raise ApplicationError(f"The taxonomy already has a label {new_path!r}.", extra={"path": new_path})
    old_path = label.path
    longest = _descendants(label).aggregate(longest=Max(Length("path")))["longest"] or len(old_path)
    if longest - len(old_path) + len(new_path) > PATH_MAX:
        raise ApplicationError(
            f"The paths under {new_path!r} would pass {PATH_MAX} characters.", extra={"path": new_path[:200]}
        )
    depth = parent.depth + 1 if parent else 0
    # updated_at too: the annotators' search index is keyed by it (datasets.label_cache).
    _descendants(label).update(
        path=Concat(Value(new_path), Substr("path", len(old_path) + 1)), depth=F("depth") + (depth - label.depth),
        updated_at=timezone.now(),
    )
    label.name, label.parent, label.path, label.depth = name, parent, new_path, depth
    label.save(update_fields=["name", "parent", "path", "depth", "updated_at"])
    return label


def labels_deprecate(*, label: Label, merged_into: Label | None = None) -> int:
    """Deprecate the label and its descendants (a retired branch retires whole); returns how many labels."""
    label.deprecated = True
    label.merged_into = merged_into
    label.save(update_fields=["deprecated", "merged_into", "updated_at"])
    return 1 + _descendants(label).filter(deprecated=False).update(deprecated=True, updated_at=timezone.now())


def label_child_create(*, parent: Label, name: str, code: str = "") -> Label:
    """A new node under `parent`; refused when the path or the code is taken."""
    name = _name_clean(name)
    if parent.deprecated:
        raise ApplicationError("A deprecated label takes no new children.", extra={"parent": parent.pk})
    path = f"{parent.path}{SEPARATOR}{name}"
    if len(path) > PATH_MAX:
        raise ApplicationError(f"A label's path takes at most {PATH_MAX} characters.", extra={"path": path[:200]})
    code = code.strip()
    if len(code) > 255:
        raise ApplicationError("A label's code takes at most 255 characters.", extra={"code": len(code)})
    if Label.objects.filter(dataset_id=parent.dataset_id, path=path).exists():
        raise ApplicationError(f"The taxonomy already has a label {path!r}.", extra={"path": path})
    if code and Label.objects.filter(dataset_id=parent.dataset_id, code=code).exists():
        raise ApplicationError(f"The code {code!r} is already used.", extra={"code": code})
    return Label.objects.create(
        dataset_id=parent.dataset_id, parent=parent, name=name, path=path, code=code, depth=parent.depth + 1
    )


def taxonomy_change_record(
    *,
    dataset: Dataset,
    user: AbstractBaseUser | None,
    action: TaxonomyAction,
    label: Label,
    old_path: str,
    new_path: str = "",
    target: Label | None = None,
) -> TaxonomyChange:
    return TaxonomyChange.objects.create(
        dataset=dataset, user=user, action=action, label=label, target=target, old_path=old_path, new_path=new_path
    )


def taxonomy_change_counts_set(*, change: TaxonomyChange, counts: dict[str, int]) -> None:
    change.counts = counts
    change.save(update_fields=["counts"])
