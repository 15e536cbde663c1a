"""Figures about the answers that other apps read (training triggers, the model page), so only labeling queries
its tables."""

from collections import Counter, defaultdict
from datetime import timedelta

from django.db.models import Count, Max, Min, Q
from django.utils import timezone

from datasets.models import Dataset
from labeling.models import Annotation, AnnotationStatus

# An answer that teaches a model: a label, or a value (a span kind's spans; [] too: a title without attributes).
ANSWERED = Q(label__isnull=False) | Q(value__isnull=False)
# A rate measured over less than this is mostly noise (a burst of quick labels), so it counts as this long.
MIN_RATE_HOURS = 1.0


def annotation_last_id(*, dataset: Dataset) -> int:
    """The newest answer's id (0 if none): what a training run saw, and where the next trigger counts from."""
    return Annotation.objects.filter(dataset=dataset).aggregate(last=Max("pk"))["last"] or 0


def labels_since_count(*, dataset: Dataset, after_id: int, limit: int) -> int:
    """Submitted answers, a label or a value (spans; flags without one teach nothing), with ids above `after_id`,
    counted up to `limit`."""
    labels = Annotation.objects.filter(ANSWERED, dataset=dataset, status=AnnotationStatus.SUBMITTED, pk__gt=after_id)
    return labels[:limit].count()


def labeling_rate(*, dataset: Dataset, hours: float = 24) -> float:
    """Labels submitted by people per hour over the last `hours` (or since labeling began, if later).

    Imports are not labeling work and flags without a label teach the model nothing, so neither counts.
    """
    now = timezone.now()
    since = now - timedelta(hours=hours)
    human = Annotation.objects.filter(ANSWERED, dataset=dataset, user__isnull=False, status=AnnotationStatus.SUBMITTED)
    recent = human.filter(created_at__gte=since).aggregate(count=Count("pk"), first=Min("created_at"))
    if not recent["count"]:
        return 0.0
    if not human.filter(created_at__lt=since).exists():
        since = recent["first"]
    elapsed = max((now - since).total_seconds() / 3600, MIN_RATE_HOURS)
    return recent["count"] / elapsed


def suggestion_influence(*, dataset: Dataset) -> dict[str, dict[str, float | int | None]]:
    """How answers differ when suggestions were shown or hidden: agreement with gold and with the task's majority.

    A large gap between the two groups means suggestions sway annotators (anchoring).
    """
    rows = (
        Annotation.objects.filter(
            dataset=dataset, user__isnull=False, status=AnnotationStatus.SUBMITTED, label__isnull=False
        )
        .values_list("task_id", "label_id", "suggestions_shown", "task__gold_label_id")
        .iterator(chunk_size=5000)
    )
    answers = list(rows)
    votes: dict[int, Counter] = defaultdict(Counter)
    for task_id, label_id, _, _ in answers:
        votes[task_id][label_id] += 1
    groups = {True: Counter(), False: Counter()}
    for task_id, label_id, shown, gold_id in answers:
        group = groups[shown]
        group["answers"] += 1
        if gold_id is not None:
            group["gold"] += 1
            group["gold_agree"] += label_id == gold_id
        top = votes[task_id].most_common(2)
        if top[0][1] >= 2 and (len(top) == 1 or top[0][1] > top[1][1]):
            # Only tasks with a strict majority: a tie says nothing about who agreed.
            group["majority"] += 1
            group["majority_agree"] += label_id == top[0][0]
    return {
        "shown" if shown else "hidden": {
            "answers": group["answers"],
            "gold_accuracy": round(group["gold_agree"] / group["gold"], 4) if group["gold"] else None,
            "majority_agreement": round(group["majority_agree"] / group["majority"], 4) if group["majority"] else None,
        }
        for shown, group in groups.items()
    }
