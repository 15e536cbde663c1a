"""labeling announces submitted answers with a signal, once committed (models_app listens: see its trigger tests)."""

import pytest

from labeling.queue import task_lease_next
from labeling.services import annotation_skip, annotation_submit
from labeling.signals import answers_submitted
from tests.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    datasets = []

    def listen(sender, *, dataset, **kwargs):
        datasets.append(dataset)

    answers_submitted.connect(listen)
    yield datasets
    answers_submitted.disconnect(listen)


def test_a_submit_is_announced_with_its_dataset_once_committed(catalog, heard, django_capture_on_commit_callbacks):
    user = member(catalog, "ann")
    with django_capture_on_commit_callbacks() as callbacks:
        annotation_submit(task=task_lease_next(dataset=catalog, user=user), user=user, label=catalog.labels.first())
        assert heard == []
    for callback in callbacks:
        callback()
    assert heard == [catalog]


def test_a_skip_is_not_announced(catalog, heard, django_capture_on_commit_callbacks):
    user = member(catalog, "ann")
    with django_capture_on_commit_callbacks(execute=True):
        annotation_skip(task=task_lease_next(dataset=catalog, user=user), user=user)
    assert heard == []
