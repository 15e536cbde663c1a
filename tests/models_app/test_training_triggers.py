import pytest
from kombu.exceptions import OperationalError

from config.celery import app
from labeling.models import Annotation
from labeling.queue import task_lease_next
from labeling.services import annotation_submit
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.services.training import model_version_train, trainings_due_request
from tests.conftest import worker_idle_wait, worker_sweep_once
from tests.factories import member

pytestmark = pytest.mark.django_db


def test_enough_new_labels_request_a_run_at_the_next_sweep(labeled_catalog, django_capture_on_commit_callbacks):
    labeled_catalog.retrain_every = 2
    labeled_catalog.save()
    user = member(labeled_catalog, "ann")
    label = labeled_catalog.labels.first()
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(task=task_lease_next(dataset=labeled_catalog, user=user), user=user, label=label)
    assert not ModelVersion.objects.exists()  # the submit checks nothing: the worker's sweep does
    assert trainings_due_request() == [ModelVersion.objects.get(dataset=labeled_catalog)]
    assert trainings_due_request() == []  # one waits: not requested again
    version = ModelVersion.objects.get(dataset=labeled_catalog)
    assert (version.trigger, version.status) == (TrainingTrigger.AUTO, VersionStatus.QUEUED)


def test_no_run_is_requested_when_retraining_is_off(labeled_catalog):
    user = member(labeled_catalog, "ann")
    annotation_submit(
        task=task_lease_next(dataset=labeled_catalog, user=user), user=user, label=labeled_catalog.labels.first()
    )
    assert trainings_due_request() == []
    assert not ModelVersion.objects.filter(dataset=labeled_catalog).exists()


def submit_labels(dataset, count: int, user) -> None:
    label = dataset.labels.first()
    for _ in range(count):
        annotation_submit(task=task_lease_next(dataset=dataset, user=user), user=user, label=label)


def test_no_second_run_is_requested_while_one_runs(labeled_catalog):
    labeled_catalog.retrain_every = 2
    labeled_catalog.save()
    submit_labels(labeled_catalog, 2, member(labeled_catalog, "ann"))
    trainings_due_request()
    ModelVersion.objects.filter(dataset=labeled_catalog).update(status=VersionStatus.RUNNING)
    submit_labels(labeled_catalog, 3, member(labeled_catalog, "ben"))
    assert trainings_due_request() == []
    assert ModelVersion.objects.filter(dataset=labeled_catalog).count() == 1


def test_a_failed_run_is_not_requested_again_before_enough_new_labels(labeled_catalog):
    labeled_catalog.retrain_every = 2
    labeled_catalog.model_config = {"classifier": "no-such-classifier"}
    labeled_catalog.save()
    ann, ben = member(labeled_catalog, "ann"), member(labeled_catalog, "ben")
    submit_labels(labeled_catalog, 2, ann)
    trainings_due_request()
    failed = model_version_train(version_id=ModelVersion.objects.get(dataset=labeled_catalog).pk)
    assert failed.status == VersionStatus.FAILED
    submit_labels(labeled_catalog, 1, ben)
    trainings_due_request()
    assert ModelVersion.objects.filter(dataset=labeled_catalog).count() == 1
    submit_labels(labeled_catalog, 1, ben)
    trainings_due_request()
    assert ModelVersion.objects.filter(dataset=labeled_catalog).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_broker_that_refuses_the_run_leaves_it_to_the_next_sweep(labeled_catalog, monkeypatch, caplog):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(app, "send_task", refuse)
    labeled_catalog.retrain_every = 1
    labeled_catalog.save()
    user = member(labeled_catalog, "ann")
    task = task_lease_next(dataset=labeled_catalog, user=user)
    annotation_submit(task=task, user=user, label=labeled_catalog.labels.first())
    assert trainings_due_request() == []
    assert Annotation.objects.filter(task=task, user=user).exists()
    assert not ModelVersion.objects.filter(dataset=labeled_catalog).exists()
    assert "automatic training" in caplog.text and "broker is unreachable" in caplog.text
    monkeypatch.undo()
    assert [version.dataset_id for version in trainings_due_request()] == [labeled_catalog.pk]


@pytest.mark.django_db(transaction=True)  # the sweeper's loop closes its connection when it stops
def test_every_sweep_of_a_worker_requests_the_runs_that_are_due(labeled_catalog):
    """The chain the worker runs: its sweeper's loop sends `swept`, models_app's receiver requests the runs."""
    labeled_catalog.retrain_every = 1
    labeled_catalog.save()
    user = member(labeled_catalog, "ann")
    annotation_submit(
        task=task_lease_next(dataset=labeled_catalog, user=user), user=user, label=labeled_catalog.labels.first()
    )
    worker_sweep_once()
    version = ModelVersion.objects.get(dataset=labeled_catalog)
    # The suite's worker, when an earlier test started it, may already have taken the run from the queue.
    assert version.trigger == TrainingTrigger.AUTO
    assert version.status not in (VersionStatus.FAILED, VersionStatus.CANCELLED)
    # The suite's worker, when an earlier test started it, may have taken the run: it must end before the tables
    # are flushed (a deadlock with the flush's TRUNCATE otherwise). A run nobody took is dropped from the queue.
    app.control.purge()
    worker_idle_wait(timeout=60)
