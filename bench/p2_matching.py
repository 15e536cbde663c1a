"""P2 for product matching: next + submit of pairs over HTTP, 16 concurrent annotators, at 10k and SCALE pairs.

The same clients, server and measurement as P2 (`p2_queue.run`); the dataset holds one product per
catalog row and as many pairs, each product paired with the next one (so each is in two pairs), loaded
with COPY and set-based SQL like P2's catalog. Answers alternate at random between match and no match.
"""

from __future__ import annotations

import random
from pathlib import Path

from bench import p2_queue
from bench.p2_setup import QueueSetup, kind_dataset, load_tasks

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


def _pairs(cursor, dataset) -> None:
    cursor.execute(PAIRS, [dataset.pk])
    cursor.execute(TASKS, [dataset.pk, str(dataset.seed)])


def _match_or_not(setup: QueueSetup, task: dict, rng: random.Random) -> dict:
    return {"label": rng.choice(list(setup.labels.values()))}


def load_pairs(path: Path, users: list) -> QueueSetup:
    """A matching dataset: every row of `path` a product, every product paired with the next, no answers."""
    return load_tasks(path, users, create=kind_dataset("matching", f"bench matching {path.stem}"), fill=_pairs,
                      answer=_match_or_not)


def run(scale: int) -> dict[str, object]:
    return p2_queue.run(scale, load=load_pairs, name="p2m")
