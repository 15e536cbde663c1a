"""Brute-force protection: wrong passwords lock the account and the address for a cool-off, with a clear page."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


@pytest.fixture
def users():
    return UserFactory(username="alice"), UserFactory(username="bob")


def attempt(client, username, password, *, url="login", **extra):
    return client.post(reverse(url), {"username": username, "password": password}, **extra)


def fail(client, username, times, **extra):
    for _ in range(times):
        attempt(client, username, "wrong", **extra)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_after_too_many_wrong_ones_is_refused_with_the_lockout_page(client, users):
    fail(client, "alice", LIMIT)
    response = attempt(client, "alice", "pw")
    assert response.status_code == 429
    assert "Too many login attempts" in response.text and "Try again in 15 minutes" in response.text
    assert response["Retry-After"] == "900"
    assert not logged_in(client)


def test_wrong_passwords_below_the_limit_still_let_the_right_one_in(client, users):
    fail(client, "alice", LIMIT - 1)
    assert attempt(client, "alice", "pw").status_code == 302
    assert logged_in(client)


def test_another_account_from_the_same_address_is_locked_too(client, users):
    fail(client, "alice", LIMIT, REMOTE_ADDR="10.0.0.1")
    assert attempt(client, "bob", "pw", REMOTE_ADDR="10.0.0.1").status_code == 429
    assert not logged_in(client)


def test_guessing_many_accounts_from_one_address_is_limited_per_address(client, users):
    for n in range(LIMIT):
        attempt(client, f"someone{n}", "wrong", REMOTE_ADDR="10.0.0.1")
    assert attempt(client, "bob", "pw", REMOTE_ADDR="10.0.0.1").status_code == 429


def test_the_locked_account_is_refused_from_another_address_too(client, users):
    fail(client, "alice", LIMIT, REMOTE_ADDR="10.0.0.1")
    assert attempt(client, "alice", "pw", REMOTE_ADDR="10.0.0.2").status_code == 429
    assert attempt(client, "bob", "pw", REMOTE_ADDR="10.0.0.2").status_code == 302


def test_a_success_forgives_the_accounts_earlier_failures(client, users):
    fail(client, "alice", LIMIT - 1)
    assert attempt(client, "alice", "pw").status_code == 302
    client.logout()
    fail(client, "alice", LIMIT - 1)
    assert attempt(client, "alice", "pw").status_code == 302


def test_logging_into_ones_own_account_does_not_forgive_guesses_at_another(client, users):
    fail(client, "alice", LIMIT - 1, REMOTE_ADDR="10.0.0.9")
    assert attempt(client, "bob", "pw", REMOTE_ADDR="10.0.0.9").status_code == 302
    client.logout()
    fail(client, "alice", 1, REMOTE_ADDR="10.0.0.9")
    assert attempt(client, "alice", "pw", REMOTE_ADDR="10.0.0.7").status_code == 429


def test_the_lock_lifts_once_the_cool_off_has_passed(client, users):
    fail(client, "alice", LIMIT)
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert attempt(client, "alice", "pw").status_code == 302


def test_the_admin_login_is_limited_too(client):
    UserFactory(username="root", is_superuser=True, is_staff=True)
    for _ in range(LIMIT):
        attempt(client, "root", "wrong", url="admin:login")
    response = attempt(client, "root", "pw", url="admin:login")
    assert response.status_code == 429
    assert "Too many login attempts" in response.text
    assert not logged_in(client)


def test_behind_a_proxy_a_forged_forwarded_address_does_not_escape_the_limit(client, users, settings):
    settings.LOGIN_PROXY_COUNT = 1
    for n in range(LIMIT):
        attempt(client, "alice", "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.5")
    response = attempt(client, "bob", "pw", HTTP_X_FORWARDED_FOR="192.0.2.99, 203.0.113.5")
    assert response.status_code == 429


def test_behind_a_proxy_clients_are_told_apart_by_the_address_the_proxy_saw(client, users, settings):
    settings.LOGIN_PROXY_COUNT = 1
    fail(client, "alice", LIMIT, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert attempt(client, "bob", "pw", HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302
