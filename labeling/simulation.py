"""A simulated team: annotators of chosen accuracy and speed label through the real queue and services.

Each annotator answers the true label with their accuracy, else a wrong one (a sibling in the taxonomy
more often than not, as people confuse neighbouring categories), flags now and then, and takes a
log-normal time around their mean. A "same" annotator always answers one label, fast: the spammer a
quality dashboard should catch. Used to try the quality figures on a real catalog (`simulate_team`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset, Label, Membership, Role
from datasets.services.products import LabelResolver
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
        Membership.objects.get_or_create(dataset=dataset, user=user, defaults={"role": Role.ANNOTATOR})
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
