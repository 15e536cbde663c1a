"""A simulated team: annotators of chosen accuracy and speed label through the real queue and services.

Each annotator answers the true label with their accuracy, else a wrong one (a sibling in the taxonomy
more often than not, as people confuse neighbouring categories), flags now and then, and takes a
log-normal time around their mean. A "same" annotator always answers one label, fast: the spammer a
quality dashboard should catch. Used to try the quality figures on a real catalog (`simulate_team`).
"""

from __future__ import annotations

import csv
import json
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset, Label, Role
from datasets.selectors import LabelResolver
from datasets.services.datasets import membership_set
from labeling.kinds import kind_get
from labeling.models import Annotation, Task
from labeling.queue import task_lease_next
from labeling.services import annotation_skip, annotation_submit

SIBLING_SHARE = 0.7
USER_PREFIX = "sim-"


@dataclass(frozen=True)
class SimulatedAnnotator:
    name: str
    accuracy: float  # ignored when `same`
    seconds: float
    same: bool = False


def annotators_parse(spec: str) -> list[SimulatedAnnotator]:
    """"alice:0.95:6,bob:0.8:9,spam:same:2" -> annotators (name:accuracy|same:mean seconds)."""
    team = []
    for part in (item.strip() for item in spec.split(",") if item.strip()):
        fields = part.split(":")
        if len(fields) != 3:
            raise ApplicationError(f"Annotator {part!r}: expected name:accuracy:seconds, e.g. alice:0.9:6.")
        name, quality, seconds = fields
        try:
            same = quality == "same"
            accuracy = 0.0 if same else float(quality)
            mean = float(seconds)
        except ValueError as error:
            raise ApplicationError(f"Annotator {part!r}: accuracy and seconds must be numbers.") from error
        if not 0 <= accuracy <= 1 or mean <= 0:
            raise ApplicationError(f"Annotator {part!r}: accuracy between 0 and 1, seconds above 0.")
        team.append(SimulatedAnnotator(name, accuracy, mean, same))
    if len({member.name for member in team}) != len(team) or not team:
        raise ApplicationError("Give each annotator a different name, and at least one.")
    return team


def truth_read(path: Path | str, *, id_column: str = "external_id", label_column: str = "label") -> dict[str, str]:
    """external_id -> label value from a CSV (header row) or JSONL file; headers are stripped of spaces."""
    path = Path(path)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        head = handle.read(1024).lstrip()
        handle.seek(0)
        if path.suffix.lower() in (".jsonl", ".ndjson") or head.startswith("{"):
            rows: Iterable[dict] = (json.loads(line) for line in handle if line.strip())
        else:
            reader = csv.reader(handle)
            header = [name.strip() for name in next(reader, [])]
            rows = (dict(zip(header, row, strict=False)) for row in reader)
        truth = {}
        for n, row in enumerate(rows, 1):
            if id_column not in row or label_column not in row:
                raise ApplicationError(f"{path}: record {n} has no {id_column!r} or {label_column!r} column.")
            if str(row[label_column]).strip():
                truth[str(row[id_column]).strip()] = str(row[label_column]).strip()
    return truth


class _Answerer:
    def __init__(self, member: SimulatedAnnotator, labels: list[Label], rng: random.Random) -> None:
        self.member = member
        self.rng = rng
        self.labels = labels
        self.siblings: dict[int | None, list[Label]] = {}
        for label in labels:
            self.siblings.setdefault(label.parent_id, []).append(label)
        self.favourite = labels[rng.randrange(len(labels))]

    def answer(self, truth: Label) -> Label:
        if self.member.same:
            return self.favourite
        if self.rng.random() < self.member.accuracy or len(self.labels) == 1:
            return truth
        near = [label for label in self.siblings.get(truth.parent_id, []) if label.pk != truth.pk]
        if near and self.rng.random() < SIBLING_SHARE:
            return self.rng.choice(near)
        return self.rng.choice([label for label in self.labels if label.pk != truth.pk])

    def seconds(self) -> float:
        # Log-normal around the mean: most answers near it, a few long ones, none negative.
        return self.rng.lognormvariate(0, 0.5) * self.member.seconds / 1.1331


def simulate_team_check(*, dataset: Dataset) -> None:
    """The team answers one product a task from a truth of product labels: a multi-item kind (matching pairs) has
    no such truth, so it is refused before anything is read or written."""
    kind = kind_get(dataset.task_type)
    if kind.multi_item:
        raise ApplicationError(
            f"{dataset.name!r} is a {kind.title.lower()} dataset; the simulated team labels single products from "
            "a truth of product labels, so it runs on categorization datasets only.",
            extra={"task_type": dataset.task_type},
        )


def simulate_team(
    *,
    dataset: Dataset,
    truth: dict[str, str],
    team: list[SimulatedAnnotator],
    answers: int,
    seed: int = 0,
    flag_rate: float = 0.0,
    spread_days: int = 0,
) -> dict:
    """Let the team give up to `answers` answers in turns; returns what each one did.

    `spread_days` spreads the simulated answers' times evenly over that many past days, so the
    activity charts have a history to show (only the simulation's own answers are moved).
    """
    simulate_team_check(dataset=dataset)
    resolve = LabelResolver(dataset)
    true_label = {external_id: resolve(value) for external_id, value in truth.items()}
    unknown = sorted(value for external_id, value in truth.items() if true_label[external_id] is None)
    if unknown:
        raise ApplicationError(f"{len(unknown)} truth labels are not in the taxonomy, e.g. {unknown[0]!r}.")
    leaves = [label for label in Label.objects.filter(dataset=dataset) if not label.children.exists()]
    rng = random.Random(seed)
    user_model = get_user_model()
    members = []
    for member in team:
        user, _ = user_model.objects.get_or_create(username=f"{USER_PREFIX}{member.name}")
        membership_set(dataset=dataset, username=user.username, role=Role.ANNOTATOR)
        members.append((user, _Answerer(member, leaves, random.Random(rng.random()))))
    external_ids = dict(Task.objects.filter(dataset=dataset).values_list("pk", "product__external_id"))
    first_id = (Annotation.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    done = {user.username: 0 for user, _ in members}
    started = timezone.now()
    given = 0
    active = list(members)
    while given < answers and active:
        for user, answerer in list(active):
            task = task_lease_next(dataset=dataset, user=user)
            if task is None:
                active.remove((user, answerer))  # nothing left for them
                continue
            label = true_label.get(external_ids.get(task.pk))
            if label is None:  # a product the truth does not know: pass, as a person unsure would
                annotation_skip(task=task, user=user)
                continue
            flagged = rng.random() < flag_rate
            annotation_submit(
                task=task, user=user, label=answerer.answer(label), flagged=flagged, active_seconds=answerer.seconds()
            )
            done[user.username] += 1
            given += 1
            if given >= answers:
                break
    if spread_days and given:
        _spread(dataset, first_id, given, spread_days, started)
    return {"answers": given, "by_annotator": done}


def _spread(dataset: Dataset, first_id: int, count: int, days: int, started: datetime) -> None:
    """Spread the simulated answers over the past `days`; what came before them moves back as much, in order.

    So gold promoted before the run stays before its tests. History events keep their real times.
    """
    now = timezone.now()
    shift = timedelta(days=days) + (now - started)
    Annotation.objects.filter(dataset=dataset, pk__lt=first_id).update(
        created_at=F("created_at") - shift, updated_at=F("updated_at") - shift
    )
    Task.objects.filter(dataset=dataset, gold_since__isnull=False).update(gold_since=F("gold_since") - shift)
    start = now - timedelta(days=days)
    step = timedelta(days=days) / count
    answers = list(Annotation.objects.filter(dataset=dataset, pk__gte=first_id).order_by("pk").only("pk"))
    for n, answer in enumerate(answers):
        answer.created_at = answer.updated_at = start + step * n
    Annotation.objects.bulk_update(answers, ["created_at", "updated_at"], batch_size=1000)


def tasks_completion_set(*, task_ids: list[int], complete: bool) -> None:
    """Take tasks out of the queue (or put them back) for a simulation that must not be served them."""
    for start in range(0, len(task_ids), 5000):
        Task.objects.filter(pk__in=task_ids[start : start + 5000]).update(is_complete=complete)


def tasks_random_keys_set(*, keys: dict[int, int]) -> None:
    """Give tasks the queue order of another seed (a simulation's), and later their own back."""
    Task.objects.bulk_update([Task(pk=pk, random_key=key) for pk, key in keys.items()], ["random_key"], batch_size=2000)
