"""Many annotators at once against PostgreSQL: no task beyond its overlap, no submission lost."""

import threading
from collections import defaultdict

import pytest
from django.db import connection

from labeling.models import Annotation, Lease, Task
from labeling.queue import task_lease_next
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

THREADS = 24
TASKS = 60
OVERLAP = 2


@pytest.mark.postgres
def test_concurrent_annotators_never_exceed_overlap_and_lose_nothing(postgres, transactional_db):
    dataset = DatasetFactory(overlap=OVERLAP)
    label = LabelFactory(dataset=dataset)
    TaskFactory.create_batch(TASKS, dataset=dataset)
    users = [member(dataset, f"annotator{i}") for i in range(THREADS)]
    served: dict[int, list[int]] = defaultdict(list)
    submitted: list[tuple[int, int]] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(THREADS)

    def annotate(user) -> None:
        try:
            start.wait()
            while (task := task_lease_next(dataset=dataset, user=user)) is not None:
                with lock:
                    served[task.pk].append(user.pk)
                annotation_submit(task=task, user=user, label=label, active_seconds=1.0)
                with lock:
                    submitted.append((task.pk, user.pk))
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=annotate, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert max(len(users_of_task) for users_of_task in served.values()) == OVERLAP
    assert all(len(set(users_of_task)) == len(users_of_task) for users_of_task in served.values())
    assert len(submitted) == TASKS * OVERLAP
    assert Annotation.objects.filter(dataset=dataset).count() == TASKS * OVERLAP
    assert set(Task.objects.filter(dataset=dataset).values_list("annotation_count", "is_complete")) == {(OVERLAP, True)}
    # Every lease was given back by its answer, and each row's count of live leases says so.
    assert set(Task.objects.filter(dataset=dataset).values_list("lease_count", flat=True)) == {0}
    assert not Lease.objects.filter(dataset=dataset).exists()
