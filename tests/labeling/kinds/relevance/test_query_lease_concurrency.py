"""Judges leasing whole queries at once against PostgreSQL: no task beyond its overlap, no answer lost."""

import threading
import time
from collections import defaultdict

import pytest
from django.db import connection

from labeling.models import Annotation, Task
from labeling.queue import query_lease_next
from labeling.services import TaskAnswer, annotations_submit
from tests.factories import member
from tests.labeling.kinds.relevance.judging import search_dataset

JUDGES = 8
QUERIES = 5
OVERLAP = 2


@pytest.mark.postgres
def test_concurrent_judges_of_lists_never_exceed_overlap_and_lose_nothing(postgres, transactional_db):
    dataset = search_dataset(queries=QUERIES, overlap=OVERLAP)
    exact = dataset.labels.get(code="E")
    judges = [member(dataset, f"judge{i}") for i in range(JUDGES)]
    served: dict[int, list[int]] = defaultdict(list)
    failures: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(JUDGES)

    def still_open_for(user) -> bool:
        return Task.objects.filter(dataset=dataset, is_complete=False).exclude(annotations__user=user).exists()

    def judge(user) -> None:
        try:
            start.wait()
            retries = 0
            while True:
                tasks = query_lease_next(dataset=dataset, user=user)
                if not tasks:
                    # Another judge's transaction may hold the last open tasks' locks for a moment (the claim skips
                    # locked rows rather than wait): a judge reloads while something is still open to them.
                    if retries >= 100 or not still_open_for(user):
                        break
                    retries += 1
                    time.sleep(0.02)
                    continue
                with lock:
                    for task in tasks:
                        served[task.pk].append(user.pk)
                answers = [TaskAnswer(task=task, label=exact) for task in tasks]
                annotations_submit(dataset=dataset, user=user, answers=answers, active_seconds=5.0)
        except BaseException as error:
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=judge, args=(user,)) for user in judges]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    assert max(len(users) for users in served.values()) == OVERLAP
    assert all(len(set(users)) == len(users) for users in served.values())
    assert Annotation.objects.filter(dataset=dataset).count() == QUERIES * 10 * OVERLAP
    assert set(Task.objects.filter(dataset=dataset).values_list("annotation_count", "is_complete")) == {(OVERLAP, True)}
