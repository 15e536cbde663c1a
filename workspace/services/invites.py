"""Invite links: a lead makes one for a dataset and a role. Whoever opens it either chooses a username and a
password, and the account is created as a member of the dataset, or, already having an account, joins with it.

A link is for one person, either way: a role (lead included) handed to whoever holds a reusable link is too
much to leave lying in a chat, and a lead who invites a team makes one link each or adds existing accounts
in one go from the Members card. An existing member who joins keeps the higher of the two roles: an invite
raises an annotator to lead, never lowers a lead; a join that changes nothing leaves the link unspent, so
it still works for whom it was meant. A lead takes back a link nobody used with `invite_withdraw`."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset, Membership, Role
from workspace.models import Invite

SALT = "shelfmark.invite"


@dataclass(frozen=True)
class InviteLink:
    invite: Invite
    token: str

    @property
    def expires_at(self):
        return self.invite.expires_at


@dataclass(frozen=True)
class InviteJoin:
    membership: Membership
    changed: bool  # False: the account was already a member with this role or a higher one


def invite_create(*, dataset: Dataset, role: str, user: AbstractBaseUser) -> InviteLink:
    if role not in Role.values:
        raise ApplicationError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    invite = Invite.objects.create(dataset=dataset, role=role, created_by=user)
    # The dataset and role ride along for whoever reads the link; the row is what counts.
    token = signing.TimestampSigner(salt=SALT).sign_object({"invite": invite.pk, "dataset": dataset.pk, "role": role})
    return InviteLink(invite=invite, token=token)


def invite_read(*, token: str) -> Invite:
    """The open invite a token names, or an ApplicationError that says why the link no longer works."""
    try:
        payload = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=settings.INVITE_MAX_AGE.total_seconds()
        )
    except signing.SignatureExpired:
        raise ApplicationError(
            f"This invite link has expired (links last {settings.INVITE_MAX_AGE.days} days): ask the dataset's lead "
            "for a new one."
        ) from None
    except signing.BadSignature:
        raise ApplicationError("This invite link is not valid: check that it was copied whole.") from None
    invite = Invite.objects.select_related("dataset").filter(pk=payload.get("invite")).first()
    if invite is None or invite.withdrawn_at is not None:
        raise ApplicationError("This invite link was withdrawn: ask the dataset's lead for a new one.")
    if invite.used_at is not None:
        raise ApplicationError(
            "This invite link has already been used. Log in with the account that used it, or ask the "
            "dataset's lead for a new link."
        )
    return invite


def _invite_lock(*, token: str) -> Invite:
    invite = invite_read(token=token)
    # Two people opening one link at once (or a lead withdrawing it): the second waits here and finds it spent.
    invite = Invite.objects.select_related("dataset").select_for_update().get(pk=invite.pk)
    if invite.withdrawn_at is not None:
        raise ApplicationError("This invite link was withdrawn: ask the dataset's lead for a new one.")
    if invite.used_at is not None:
        raise ApplicationError("This invite link has already been used.")
    return invite


@transaction.atomic
def invite_accept(*, token: str, username: str, password: str) -> AbstractBaseUser:
    """Create the account and its membership, and spend the link; all or nothing."""
    invite = _invite_lock(token=token)
    model = get_user_model()
    if model.objects.filter(username__iexact=username).exists():
        raise ApplicationError("This username is taken: choose another.", extra={"field": "username"})
    user = model(username=username)
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ApplicationError(" ".join(error.messages), extra={"field": "password"}) from None
    user.set_password(password)
    user.save()
    Membership.objects.create(dataset=invite.dataset, user=user, role=invite.role)
    invite.used_by, invite.used_at = user, timezone.now()
    invite.save(update_fields=["used_by", "used_at"])
    return user


ROLE_RANK = {Role.ANNOTATOR: 0, Role.LEAD: 1}


@transaction.atomic
def invite_join(*, token: str, user: AbstractBaseUser) -> InviteJoin:
    """An existing account joins through the link: a membership with the invite's role, or a member's role
    raised to it (never lowered). The link is spent only when the join changed something."""
    invite = _invite_lock(token=token)
    if user.is_superuser or user.is_staff or not user.is_active:
        # As `membership_set`: admins see every dataset already, and are never members.
        raise ApplicationError("Admin accounts are never members of a dataset: they see every dataset already.")
    membership = Membership.objects.select_for_update().filter(dataset=invite.dataset, user=user).first()
    if membership is not None and ROLE_RANK[membership.role] >= ROLE_RANK[invite.role]:
        return InviteJoin(membership=membership, changed=False)
    if membership is None:
        membership = Membership.objects.create(dataset=invite.dataset, user=user, role=invite.role)
    else:
        membership.role = invite.role
        membership.save(update_fields=["role"])
    invite.used_by, invite.used_at = user, timezone.now()
    invite.save(update_fields=["used_by", "used_at"])
    return InviteJoin(membership=membership, changed=True)


@transaction.atomic
def invite_withdraw(*, invite: Invite) -> Invite:
    """A lead takes back an open link: whoever opens it from now on is told it was withdrawn."""
    invite = Invite.objects.select_for_update().get(pk=invite.pk)
    if invite.used_at is not None or invite.withdrawn_at is not None:
        raise ApplicationError("This invite link was used or withdrawn meanwhile.")
    invite.withdrawn_at = timezone.now()
    invite.save(update_fields=["withdrawn_at"])
    return invite
