"""Run by test_scores_sqlite.py in a process of its own, on a migrated SQLite file (DATABASE_URL): a rescoring
writes TASKS scores on one thread while an annotator submits on another; prints, as JSON, the order in which the
rescoring's commits and the submit's end happened."""

import itertools
import json
import sys
import threading

import django

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402

from datasets.models import Dataset, Label, Membership, Product, Role  # noqa: E402
from labeling.models import Task  # noqa: E402
from labeling.queue import task_lease_next  # noqa: E402
from labeling.scores import TaskScoresWriter  # noqa: E402

TASKS = 20_000  # 20 slices of labeling.scores.SQLITE_SLICE


def main() -> None:
    from django.contrib.auth import get_user_model

    dataset = Dataset.objects.create(name="rescored", retrain_every=0)
    label = Label.objects.create(dataset=dataset, name="Phones", path="Phones", code="c1")
    user = get_user_model().objects.create(username="annotator")
    Membership.objects.create(dataset=dataset, user=user, role=Role.ANNOTATOR)
    Product.objects.bulk_create(
        [Product(dataset=dataset, external_id=str(n), title=f"Phone {n}") for n in range(TASKS)], batch_size=5000
    )
    Task.objects.bulk_create(
        [Task(dataset=dataset, product_id=pk, random_key=pk)
         for pk in Product.objects.filter(dataset=dataset).values_list("pk", flat=True)],
        batch_size=5000,
    )
    task_ids = np.array(sorted(Task.objects.filter(dataset=dataset).values_list("pk", flat=True)), dtype=np.int64)
    task = task_lease_next(dataset=dataset, user=user)
    connection.close()  # each thread below opens its own

    order = itertools.count()
    events: list[tuple[int, str]] = []
    first_commit = threading.Event()

    def rescore() -> None:
        def trace(statement: str) -> None:
            if statement.strip().upper() == "COMMIT":
                events.append((next(order), "commit"))
                first_commit.set()

        connection.ensure_connection()
        connection.connection.set_trace_callback(trace)
        try:
            with TaskScoresWriter(dataset=dataset) as writer:
                writer.write(task_ids=task_ids, labels=[label.pk], probabilities=np.full((TASKS, 1), 0.5),
                             uncertainty=np.full(TASKS, 0.5), priority=np.full(TASKS, 0.5))
        finally:
            first_commit.set()
            connection.close()

    rescoring = threading.Thread(target=rescore)
    rescoring.start()
    first_commit.wait()
    from labeling.services import annotation_submit

    annotation_submit(task=Task.objects.get(pk=task.pk), user=user, label=label)
    events.append((next(order), "submitted"))
    connection.close()
    rescoring.join()
    scored = Task.objects.filter(dataset=dataset, uncertainty=0.5).count()
    print(json.dumps({"events": [name for _, name in sorted(events)], "scored": scored, "tasks": TASKS}))


if __name__ == "__main__":
    main()
    sys.exit(0)
