import pytest

from labeling.queue import task_lease_next
from labeling.services import annotation_submit
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from tests.factories import member

pytestmark = pytest.mark.django_db


def test_enough_new_labels_request_a_run(labeled_catalog, django_capture_on_commit_callbacks):
    labeled_catalog.retrain_every = 2
    labeled_catalog.save()
    user = member(labeled_catalog, "ann")
    label = labeled_catalog.labels.first()
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(task=task_lease_next(dataset=labeled_catalog, user=user), user=user, label=label)
    assert ModelVersion.objects.filter(dataset=labeled_catalog).count() == 1
    version = ModelVersion.objects.get(dataset=labeled_catalog)
    assert (version.trigger, version.status) == (TrainingTrigger.AUTO, VersionStatus.QUEUED)


def test_no_run_is_requested_when_retraining_is_off(labeled_catalog, django_capture_on_commit_callbacks):
    user = member(labeled_catalog, "ann")
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(
            task=task_lease_next(dataset=labeled_catalog, user=user), user=user, label=labeled_catalog.labels.first()
        )
    assert not ModelVersion.objects.filter(dataset=labeled_catalog).exists()
