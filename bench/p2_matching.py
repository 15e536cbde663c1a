"""P2 for product matching: next + submit of pairs over HTTP, 16 concurrent annotators, at 10k and SCALE pairs.

The same clients, server and measurement as P2 (`p2_queue.run`); the dataset holds one product per
catalog row and as many pairs, each product paired with the next one (so each is in two pairs), loaded
with COPY and set-based SQL like P2's catalog. Answers alternate at random between match and no match.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench import p2_queue
from bench.common import log
from bench.p2_setup import PRODUCTS, STAGE, QueueSetup

# Product n is paired with product n + 1 (the last with the first): SCALE products give SCALE pairs.
PAIRS = """
CREATE TEMP TABLE bench_pair ON COMMIT DROP AS
SELECT least(left_id, right_id) AS low, greatest(left_id, right_id) AS high, left_id > right_id AS swapped
FROM (
    SELECT id AS left_id, coalesce(lead(id) OVER (ORDER BY id), first_value(id) OVER (ORDER BY id)) AS right_id
    FROM datasets_product WHERE dataset_id = %s
) AS pairs
"""
# Random keys as labeling.kinds.matching.tasks makes them (a hash of seed and pair), computed in SQL.
TASKS = """
INSERT INTO labeling_task (dataset_id, product_id, other_product_id, swapped, is_gold, annotation_count, is_complete,
                           priority, random_key, needs_review, created_at)
SELECT %s, low, high, swapped, false, 0, false, 0,
       ('x' || substr(md5(%s || ':pair:' || low::text || ':' || high::text), 1, 14))::bit(56)::bigint, false, now()
FROM bench_pair
"""


def load_pairs(path: Path, users: list) -> QueueSetup:
    """A matching dataset: every row of `path` a product, every product paired with the next, no answers."""
    from django.db import connection, transaction
    from rest_framework.authtoken.models import Token

    from datasets.models import Label, Membership, Role
    from workspace.services.datasets import dataset_create

    started = time.perf_counter()
    with transaction.atomic():
        dataset = dataset_create(user=users[0], name=f"bench matching {path.stem}", task_type="matching")
        Membership.objects.bulk_create(
            [Membership(dataset=dataset, user=user, role=Role.ANNOTATOR) for user in users[1:]]
        )
        with connection.cursor() as cursor, path.open("rb") as handle:
            cursor.execute(STAGE)
            cursor.copy_expert("COPY bench_stage FROM STDIN WITH (FORMAT csv, HEADER true)", handle)
            cursor.execute(PRODUCTS, [dataset.pk])
            cursor.execute(PAIRS, [dataset.pk])
            cursor.execute(TASKS, [dataset.pk, str(dataset.seed)])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) datasets_product, labeling_task")
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT count(*) FROM labeling_task WHERE dataset_id = %s", [dataset.pk])
        pairs = cursor.fetchone()[0]
    tokens = [Token.objects.get(user=user).key for user in users]
    labels = dict(Label.objects.filter(dataset=dataset).values_list("name", "pk"))
    seconds = time.perf_counter() - started
    log(f"loaded matching dataset {dataset.pk}: {pairs:,} pairs, labels {sorted(labels)} in {seconds:.1f} s")
    return QueueSetup(dataset_id=dataset.pk, products=pairs, tokens=tokens, labels=labels, seconds=seconds)


def run(scale: int) -> dict[str, object]:
    return p2_queue.run(scale, load=load_pairs, name="p2m")
