"""Every response carries a strict Content-Security-Policy, and no template relies on what it forbids."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from rest_framework.test import APIClient

from datasets.models import Role
from tests.factories import DatasetFactory, UserFactory, member

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)
TEMPLATES = sorted(
    path
    for pattern in ("templates/**/*.html", "*/templates/**/*.html", "labeling/kinds/*/templates/**/*.html")
    for path in ROOT.glob(pattern)
    if ".venv" not in path.parts
)


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in header.split(";") if part.strip())}


@pytest.mark.parametrize("name", ["login", "api-docs"])
def test_anonymous_pages_carry_the_policy(client, name):
    assert "script-src" in policy(client.get(reverse(name)))


def test_a_lead_page_carries_the_policy(client):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "lead", Role.LEAD))
    response = client.get(reverse("workspace:detail", args=[dataset.pk]))
    assert response.status_code == 200 and "Content-Security-Policy" in response


def test_api_responses_and_the_admin_carry_the_policy(client):
    api = APIClient()
    api.force_authenticate(UserFactory())
    assert "Content-Security-Policy" in api.get(reverse("api-dataset-list"))
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    assert "Content-Security-Policy" in client.get(reverse("admin:index"))


def test_scripts_run_only_from_our_own_files(client):
    directives = policy(client.get(reverse("login")))
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"] and directives["frame-ancestors"] == ["'none'"]


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_no_template_has_an_inline_script_an_event_handler_or_a_style_block(path):
    html = path.read_text()
    inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
    handlers = re.findall(r"""<[^>]*\son[a-z]+\s*=\s*["']""", html)
    assert inline_scripts == [] and handlers == []
    assert "<style" not in html and "hx-on" not in html and "javascript:" not in html
