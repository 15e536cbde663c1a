"""How django-axes limits logins here: who a client is, what a success forgives, what a locked-out client sees."""

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def client_ip(request: HttpRequest) -> str:
    """The address a login attempt is counted against.

    Behind `LOGIN_PROXY_COUNT` reverse proxies that each append to X-Forwarded-For, the client is that many
    entries from the right: entries further left are whatever the client sent, so trusting them would let
    an attacker pick a fresh address for every guess. Without proxies, the socket's address.
    """
    hops = settings.LOGIN_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            return forwarded[-hops]
    return request.META.get("REMOTE_ADDR", "")


class LoginAttemptHandler(AxesDatabaseHandler):
    """Axes' database handler, except that a successful login forgives only its own account's failures.

    Axes' own reset deletes every failure of the username *and* every failure of the address. Then anyone
    with one valid account could clear the count of their address, and with it the count of the account
    they are guessing at, by logging into their own account every few guesses.
    """

    def reset_user_attempts(self, request: HttpRequest, credentials: dict | None = None) -> int:
        username = get_client_username(request, credentials)
        count, _ = AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()
        return count


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    """429 with a page that says when to try again; every failed attempt while locked restarts the wait."""
    cool_off = settings.AXES_COOLOFF_TIME
    context = {"retry_at": timezone.now() + cool_off, "cool_off_minutes": round(cool_off.total_seconds() / 60)}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response
