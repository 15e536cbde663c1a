import pytest
from django.templatetags.static import static

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_favicon_ico_redirects_to_the_static_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"] == static("favicon.svg")


def test_every_page_names_its_icon(client):
    assert f'rel="icon" href="{static("favicon.svg")}"' in client.get("/login/").content.decode()


def test_the_api_docs_page_links_back_to_the_app(client):
    client.force_login(UserFactory())
    assert '<a href="/datasets/" id="back-to-app">' in client.get("/api/docs/").content.decode()
