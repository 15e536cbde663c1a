import re
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower

from config.errors import ApplicationError
from datasets.models import Dataset, Membership, Role

EDITABLE_FIELDS = (
    "name",
    "description",
    "overlap",
    "gold_fraction",
    "gold_warmup",
    "random_fraction",
    "uncertainty_strategy",
    "show_suggestions",
    "lease_minutes",
    "suggestion_hide_fraction",
    "retrain_every",
    "cold_start_examples",
    "model_config",
)

# The span text too: answers are token numbers in it, another text would move them.
CREATE_ONLY_FIELDS = ("task_type", "seed", "grade_scale", "span_description")


def _validate(dataset: Dataset) -> None:
    if not dataset.name.strip():
        raise ApplicationError("A dataset needs a name.")
    if dataset.overlap < 1:
        raise ApplicationError("Overlap must be at least 1.")
    for field in ("gold_fraction", "random_fraction", "suggestion_hide_fraction"):
        if not 0 <= getattr(dataset, field) <= 1:
            raise ApplicationError(f"{field} must be between 0 and 1.")
    if dataset.gold_fraction + dataset.random_fraction > 1:
        raise ApplicationError("gold_fraction and random_fraction together cannot exceed 1.")
    if dataset.lease_minutes < 1:
        raise ApplicationError("Leases must last at least a minute.")
    if not isinstance(dataset.model_config, dict):
        # A form's "null" or "[]" parses past the serializer; the column holds an object, and training reads one.
        raise ApplicationError(
            "Model settings (model_config) must be a JSON object; {} takes the defaults.",
            extra={"model_config": dataset.model_config},
        )


@transaction.atomic
def dataset_create(*, user: AbstractBaseUser, name: str, **settings: Any) -> Dataset:
    """Create a dataset; its creator becomes its first lead."""
    unknown = set(settings) - set(EDITABLE_FIELDS) - set(CREATE_ONLY_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown dataset settings: {', '.join(sorted(unknown))}.")
    dataset = Dataset(name=name, created_by=user, **settings)
    _validate(dataset)
    dataset.save()
    Membership.objects.create(dataset=dataset, user=user, role=Role.LEAD)
    return dataset


@transaction.atomic
def dataset_update(*, dataset: Dataset, **changes: Any) -> Dataset:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ApplicationError(f"These settings cannot be changed: {', '.join(sorted(unknown))}.")
    for field, value in changes.items():
        setattr(dataset, field, value)
    _validate(dataset)
    dataset.save(update_fields=list(changes) or None)
    return dataset


def dataset_settings_write(*, dataset: Dataset, fields: tuple[str, ...]) -> None:
    """Save settings as set on the instance, create-only ones included: for a simulation that sets its own
    (seed, random share) and puts the lead's back afterwards, whatever they were."""
    _validate(dataset)
    dataset.save(update_fields=list(fields))


@transaction.atomic
def membership_set(*, dataset: Dataset, username: str, role: str) -> Membership:
    """Add a user to the dataset or change their role.

    A lead never adds an admin (superusers see every dataset anyway; staff create their own) nor a
    deactivated account. An unknown username gets the very same answer from the very same query, so a
    lead cannot tell which accounts exist, nor which of them are admins.
    """
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    user = (
        get_user_model()
        .objects.filter(username=username, is_active=True, is_superuser=False, is_staff=False)
        .first()
    )
    if user is None:
        raise ApplicationError(
            "This account cannot be added: check the username (admins and deactivated accounts are never members)."
        )
    current = Membership.objects.filter(dataset=dataset, user=user).first()
    if current is not None and current.role == Role.LEAD and role != Role.LEAD:
        _keep_a_lead(dataset=dataset, leaving=current)
    membership, _ = Membership.objects.update_or_create(dataset=dataset, user=user, defaults={"role": role})
    return membership


def member_names_parse(text: str) -> list[str]:
    """Usernames or emails, one a line or separated by commas (or semicolons, as mail clients copy them), in
    their order without repeats."""
    return list(dict.fromkeys(name for name in (part.strip() for part in re.split(r"[,;\n]", text)) if name))


@transaction.atomic
def memberships_add(*, dataset: Dataset, names: list[str], role: str) -> list[Membership]:
    """Add several existing accounts, named by username or email, with one role; members already in the dataset
    take the role. All or none: a name that is no account, or an account a lead cannot add, refuses the whole
    list and the error names each of them (unknown and forbidden alike, as `membership_set` answers them), so
    the lead fixes the list and sends it again. Accounts are not created here: the invite link does that, with a
    password its owner chooses.
    """
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    if not names:
        raise ApplicationError("Give at least one username or email.")
    emails = {name.casefold() for name in names if "@" in name}
    candidates = list(
        get_user_model()
        .objects.annotate(email_key=Lower("email"))
        .filter(Q(username__in=names) | Q(email_key__in=emails), is_active=True, is_superuser=False, is_staff=False)
    )
    by_username = {user.username: user for user in candidates}
    by_email: dict[str, list] = {}
    for user in candidates:
        if user.email:
            by_email.setdefault(user.email_key, []).append(user)
    users, refused = {}, []
    for name in names:
        # An email two accounts share names neither: the lead gives the username instead.
        same_email = by_email.get(name.casefold(), [])
        user = by_username.get(name) or (same_email[0] if len(same_email) == 1 else None)
        if user is None:
            refused.append(name)
        else:
            users[user.pk] = user
    if refused:
        raise ApplicationError(
            f"No member added: {len(refused)} of {len(names)} cannot be added (check the usernames and emails; "
            f"admins and deactivated accounts are never members): {', '.join(refused)}.",
            extra={"refused": refused},
        )
    current = {m.user_id: m for m in Membership.objects.filter(dataset=dataset, user_id__in=list(users))}
    if role != Role.LEAD and any(m.role == Role.LEAD for m in current.values()):
        demoted = {m.pk for m in current.values() if m.role == Role.LEAD}
        leads = set(dataset.memberships.select_for_update().filter(role=Role.LEAD).values_list("pk", flat=True))
        if not leads - demoted:
            raise ApplicationError("A dataset keeps at least one lead.")
    Membership.objects.bulk_create(
        [Membership(dataset=dataset, user=user, role=role) for user in users.values()],
        update_conflicts=True,
        unique_fields=["dataset", "user"],
        update_fields=["role"],
    )
    return list(Membership.objects.filter(dataset=dataset, user_id__in=list(users)).select_related("user"))


def _keep_a_lead(*, dataset: Dataset, leaving: Membership) -> None:
    # Locking every lead row makes two leads demoting each other at once wait in turn, so one of them stays.
    leads = set(dataset.memberships.select_for_update().filter(role=Role.LEAD).values_list("pk", flat=True))
    if not leads - {leaving.pk}:
        raise ApplicationError("A dataset keeps at least one lead.")


@transaction.atomic
def membership_remove(*, dataset: Dataset, username: str) -> None:
    membership = Membership.objects.filter(dataset=dataset, user__username=username).first()
    if membership is None:
        raise ApplicationError(f"{username!r} is not a member of this dataset.")
    if membership.role == Role.LEAD:
        _keep_a_lead(dataset=dataset, leaving=membership)
    membership.delete()
