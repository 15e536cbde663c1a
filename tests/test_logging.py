"""The app's log as configured for run and production (base settings; the tests' own settings log nothing)."""

import io
import logging

import pytest
from django.conf import settings
from django.utils.log import configure_logging

from config.log_filters import ExpectedErrorsFilter
from config.settings import base
from tests.factories import DatasetFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def app_log():
    configure_logging(settings.LOGGING_CONFIG, base.LOGGING)
    stream = io.StringIO()
    (handler,) = logging.getLogger().handlers
    handler.setStream(stream)
    yield stream
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


def test_an_expected_403_on_a_page_logs_one_line_without_a_traceback(app_log, client):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "ann"))
    assert client.get(f"/datasets/{dataset.pk}/exports/").status_code == 403
    log = app_log.getvalue()
    assert [line for line in log.splitlines() if "exports" in line] == [
        f"Forbidden (Permission denied): /datasets/{dataset.pk}/exports/"
    ]
    assert "Traceback" not in log


def test_an_expected_403_in_the_api_logs_one_line(app_log, client):
    dataset = DatasetFactory()
    client.force_login(member(dataset, "ann"))
    assert client.get(f"/api/datasets/{dataset.pk}/members/").status_code == 403
    log = app_log.getvalue()
    lines = [line for line in log.splitlines() if "members" in line]
    assert lines == [f"Forbidden: /api/datasets/{dataset.pk}/members/"]


def test_an_unexpected_error_keeps_its_traceback():
    error = ValueError("boom")
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "boom", None, (ValueError, error, None))
    assert ExpectedErrorsFilter().filter(record) and record.exc_info is not None
