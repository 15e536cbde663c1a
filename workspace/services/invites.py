"""Invite links: a lead makes one for a dataset and a role; whoever opens it chooses a username and a password,
and the account is created as a member of the dataset."""

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
        return self.invite.created_at + settings.INVITE_MAX_AGE


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
    if invite is None:
        raise ApplicationError("This invite link was withdrawn: ask the dataset's lead for a new one.")
    if invite.used_at is not None:
        raise ApplicationError(
            "This invite link has already been used to create an account. Log in with that account, or ask the "
            "dataset's lead for a new link."
        )
    return invite


@transaction.atomic
def invite_accept(*, token: str, username: str, password: str) -> AbstractBaseUser:
    """Create the account and its membership, and spend the link; all or nothing."""
    invite = invite_read(token=token)
    # Two people opening one link at once: the second waits here and finds it spent.
    invite = Invite.objects.select_for_update().get(pk=invite.pk)
    if invite.used_at is not None:
        raise ApplicationError("This invite link has already been used to create an account.")
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
