"""Members: a lead adds several accounts at once, hands out invite links (and withdraws them), and reads one
member's figures; whoever opens an invite link creates their account, or joins with the one they are logged in
with, and lands on the dataset."""

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ApplicationError
from datasets.models import Role
from datasets.selectors import dataset_get, membership_get
from datasets.services.datasets import member_names_parse, membership_remove, memberships_add
from labeling.members import member_figures
from workspace.forms import InviteForm, MemberForm, SignupForm
from workspace.selectors import invite_open_get, invite_open_list
from workspace.services.invites import invite_accept, invite_create, invite_join, invite_read, invite_withdraw


@login_required
@require_POST
def member_add(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    form = MemberForm(request.POST)
    try:
        if not form.is_valid():
            raise ApplicationError("Give usernames or emails and a role.")
        added = memberships_add(
            dataset=dataset, names=member_names_parse(form.cleaned_data["usernames"]), role=form.cleaned_data["role"]
        )
        names = ", ".join(sorted(membership.user.username for membership in added))
        messages.success(request, f"{len(added)} {form.cleaned_data['role']}{'s' * (len(added) != 1)}: {names}.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("workspace:detail", dataset_id=dataset_id)


@login_required
@require_POST
def member_remove(request: HttpRequest, dataset_id: int, username: str) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    try:
        membership_remove(dataset=dataset, username=username)
        messages.success(request, f"{username} removed.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect("workspace:detail", dataset_id=dataset_id)


@login_required
@require_GET
def member_detail(request: HttpRequest, dataset_id: int, username: str) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    membership = membership_get(dataset=dataset, username=username)
    figures = member_figures(dataset=dataset, user=membership.user)
    return render(request, "workspace/member.html", {"dataset": dataset, "member": membership, "figures": figures})


@login_required
@require_POST
def invite_new(request: HttpRequest, dataset_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    form = InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the role the invite gives.")
        return redirect("workspace:detail", dataset_id=dataset_id)
    link = invite_create(dataset=dataset, role=form.cleaned_data["role"], user=request.user)
    url = request.build_absolute_uri(reverse("workspace:invite", args=[link.token]))
    messages.success(
        request,
        f"Invite link for one {link.invite.role} (one person, until {link.expires_at:%Y-%m-%d %H:%M} UTC): {url}",
    )
    return redirect("workspace:detail", dataset_id=dataset_id)


@login_required
@require_POST
def invite_withdraw_view(request: HttpRequest, dataset_id: int, invite_id: int) -> HttpResponse:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    error = None
    try:
        invite = invite_withdraw(invite=invite_open_get(dataset=dataset, invite_id=invite_id))
    except ApplicationError as refused:
        error = refused.message
    if request.htmx:
        context = {"dataset": dataset, "invites": invite_open_list(dataset=dataset), "invite_error": error}
        return render(request, "workspace/detail.html#invites", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"Invite link for one {invite.role} withdrawn.")
    return redirect("workspace:detail", dataset_id=dataset_id)


@require_http_methods(["GET", "POST"])
def invite_page(request: HttpRequest, token: str) -> HttpResponse:
    """The invite link: a logged-in visitor joins with their account, anyone else signs up (or logs in and comes
    back); a spent, withdrawn, expired or damaged link says so instead."""
    try:
        invite = invite_read(token=token)
    except ApplicationError as error:
        return render(request, "workspace/invite.html", {"refused": error.message}, status=410)
    if request.user.is_authenticated:
        return _invite_join(request, token=token, invite=invite)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invite_accept(
                token=token, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except ApplicationError as error:
            form.add_error(error.extra.get("field"), error.message)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome, {user.username}: you are a {invite.role} of {invite.dataset.name}.")
            return redirect("workspace:detail", dataset_id=invite.dataset_id)
    status = 400 if form.errors else 200
    login_url = f"{reverse('login')}?{urlencode({'next': request.path})}"
    context = {"invite": invite, "form": form, "login_url": login_url}
    return render(request, "workspace/invite.html", context, status=status)


def _invite_join(request: HttpRequest, *, token: str, invite) -> HttpResponse:
    if request.method == "GET":
        return render(request, "workspace/invite.html", {"invite": invite})
    try:
        joined = invite_join(token=token, user=request.user)
    except ApplicationError as error:
        return render(request, "workspace/invite.html", {"invite": invite, "join_error": error.message}, status=400)
    role, name = joined.membership.role, invite.dataset.name
    if joined.changed:
        messages.success(request, f"You joined {name} as {role}.")
    else:
        messages.info(request, f"You are already a {role} of {name}: nothing changed, and the link still works.")
    return redirect("workspace:detail", dataset_id=invite.dataset_id)
