"""The only way annotations change: submit, skip, undo. Each owns its transaction and writes history."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Exists, QuerySet
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset, Label
from labeling.answer_values import answer_value_intern, answer_value_keyed
from labeling.answer_write import answer_write
from labeling.history import label_event_record
from labeling.kinds.matching.checks import pair_conflicts_check_request
from labeling.models import Annotation, AnnotationStatus, EventAction, Lease, Task
from labeling.queue import lease_grant, leases_release
from labeling.review import review_flags_refresh
from labeling.signals import answers_submitted

MAX_ACTIVE_SECONDS = 24 * 3600


def _lock_task(task: Task, label: Label | None = None) -> Task:
    # Only the task row, and NO KEY: locking the dataset row too would queue every submit of a dataset
    # behind one lock, and a plain FOR UPDATE would block the foreign-key checks of other writers.
    tasks = Task.objects.select_for_update(no_key=True, of=("self",)).select_related("dataset")
    if label is not None:
        # The caller's label object may be older than a merge or deprecation committed since: read its flag
        # again in this same statement, so the normal path gains no query.
        tasks = tasks.annotate(label_deprecated=Exists(Label.objects.filter(pk=label.pk, deprecated=True)))
    return tasks.get(pk=task.pk)


def _check_slot(*, task: Task, user: AbstractBaseUser) -> None:
    """A late answer is welcome while the task still needs one; otherwise the lease had to be live."""
    now = timezone.now()
    if Lease.objects.filter(task=task, user=user, expires_at__gt=now).exists():
        return
    if task.is_gold:
        return
    # Others' live leases as the locked row counts them (the claim's count: see labeling.queue).
    leased = task.lease_count if task.lease_until is not None and task.lease_until > now else 0
    if task.is_complete or task.annotation_count + leased >= task.dataset.overlap:
        raise ApplicationError(
            "This task is no longer yours: its lease expired and other annotators completed it.",
            extra={"task": task.pk},
        )


def _answer_of(*, task: Task, user: AbstractBaseUser) -> tuple[Annotation, bool]:
    """The user's annotation of the (locked) task, or a new one if they may still answer it."""
    annotation = Annotation.objects.filter(task=task, user=user).select_related("label", "value").first()
    if annotation is not None:
        return annotation, False
    _check_slot(task=task, user=user)
    return Annotation(task=task, dataset_id=task.dataset_id, user=user), True


def _clean_seconds(active_seconds: float | None) -> float | None:
    if active_seconds is None:
        return None
    if active_seconds < 0:
        raise ApplicationError("active_seconds cannot be negative.")
    return min(float(active_seconds), MAX_ACTIVE_SECONDS)


def _recount(task: Task, delta: int) -> None:
    task.annotation_count += delta
    task.is_complete = task.annotation_count >= task.dataset.overlap
    task.save(update_fields=["annotation_count", "is_complete"])


@dataclass(frozen=True)
class TaskAnswer:
    """One answer of a batch (`annotations_submit`): a label, a flag, or both; or, for a kind answered with
    values, its value (a span list, checked by the kind: [] is an answer) instead of the label."""

    task: Task
    label: Label | None
    flagged: bool = False
    value: list | None = None

    @property
    def answered(self) -> bool:
        return self.label is not None or self.value is not None or self.flagged


def _check_answer(answer: TaskAnswer) -> None:
    if not answer.answered:
        raise ApplicationError("Choose a label, or flag the task.", extra={"task": answer.task.pk})
    if answer.label is not None and answer.value is not None:
        raise ApplicationError("An answer is a label or a value, not both.", extra={"task": answer.task.pk})
    if answer.label is not None and answer.label.dataset_id != answer.task.dataset_id:
        raise ApplicationError("This label belongs to another dataset.", extra={"label": answer.label.pk})
    if answer.label is not None and answer.label.deprecated:
        raise ApplicationError(answer.label.deprecated_reason(), extra={"label": answer.label.pk})


def _submit_in_one_statement(
    *, answer: TaskAnswer, user: AbstractBaseUser, seconds: float | None, suggestions_shown: bool, alone: bool = False
) -> Annotation | None:
    """An answer's writes in one statement (`labeling.answer_write`), its value's row included; None when
    refused, with nothing written. `alone`: the statement is a transaction of its own (`answer_write`)."""
    task, now = answer.task, timezone.now()
    overlap = task.dataset.overlap
    new_value = None if answer.value is None else answer_value_keyed(task=task, value=answer.value)
    written = answer_write(
        task=task,
        user=user,
        label_id=answer.label.pk if answer.label is not None else None,
        value=new_value,
        flagged=answer.flagged,
        seconds=seconds,
        suggestions_shown=suggestions_shown,
        overlap=overlap,
        now=now,
        alone=alone,
    )
    if written is None:
        return None
    if new_value is not None:
        new_value.pk = written.value_id
        new_value._state.adding = False
    if _needs_recount(
        flagged=answer.flagged, annotation_count=written.annotation_count, needs_review=written.needs_review
    ):
        review_flags_refresh(task_ids=[task.pk])
    task.annotation_count = written.annotation_count
    task.is_complete = written.annotation_count >= overlap
    annotation = Annotation(
        pk=written.annotation_id,
        dataset_id=task.dataset_id,
        task=task,
        user=user,
        status=AnnotationStatus.SUBMITTED,
        label=answer.label,
        value=new_value,
        flagged=answer.flagged,
        active_seconds=seconds,
        suggestions_shown=suggestions_shown,
        created_at=written.created_at,
        updated_at=now,
    )
    annotation._state.adding = False
    return annotation


def _submit_locked(
    *, answer: TaskAnswer, user: AbstractBaseUser, seconds: float | None, suggestions_shown: bool
) -> Annotation:
    """Write one checked answer inside the caller's transaction: the annotation, the counts, review flags, the
    lease and the history event. On PostgreSQL that is one statement, a value's row included; a refused answer
    and SQLite take the steps."""
    if connection.vendor == "postgresql":
        annotation = _submit_in_one_statement(
            answer=answer, user=user, seconds=seconds, suggestions_shown=suggestions_shown
        )
        if annotation is not None:
            return annotation
    task = _lock_task(answer.task, answer.label)
    if answer.label is not None and task.label_deprecated:
        label = Label.objects.select_related("merged_into").get(pk=answer.label.pk)
        raise ApplicationError(label.deprecated_reason(), extra={"label": label.pk})
    annotation, is_new = _answer_of(task=task, user=user)
    old_label, old_value = annotation.label, annotation.value
    new_value = None if answer.value is None else answer_value_intern(task=task, value=answer.value)
    action = EventAction.CREATE if is_new else EventAction.CHANGE
    counted_before = not is_new and annotation.status == AnnotationStatus.SUBMITTED
    annotation.status = AnnotationStatus.SUBMITTED
    annotation.label = answer.label
    annotation.value = new_value
    annotation.flagged = answer.flagged
    annotation.active_seconds = seconds
    annotation.suggestions_shown = suggestions_shown
    annotation.save()
    if not counted_before:
        _recount(task, +1)
    if _needs_recount(flagged=answer.flagged, annotation_count=task.annotation_count, needs_review=task.needs_review):
        review_flags_refresh(task_ids=[task.pk])
    leases_release(task_ids=[task.pk], user=user, now=timezone.now())
    label_event_record(
        task=task,
        action=action,
        user=user,
        old_label=old_label,
        new_label=answer.label,
        old_value=old_value,
        new_value=new_value,
        annotation=annotation,
        flagged=answer.flagged,
    )
    annotation.task = task  # the locked row, with its dataset
    return annotation


def _needs_recount(*, flagged: bool, annotation_count: int, needs_review: bool) -> bool:
    """Whether the task's review flags must be recounted after an answer, by its counts after it: a lone clean
    answer cannot disagree. `answer_write`'s alone guard states the same rule in SQL, under the row lock."""
    return flagged or annotation_count > 1 or needs_review


def _may_submit_alone(answer: TaskAnswer) -> bool:
    """Whether the answer is worth trying as one statement that is its own transaction, with no BEGIN and COMMIT
    round trips: a first, clean answer to a task out of review, as the task was read. The statement checks it again
    under the row lock, and writes nothing when it no longer holds (the transaction then takes the answer)."""
    task = answer.task
    first = not task.annotation_count  # so the answer makes the count 1
    return (
        connection.vendor == "postgresql"
        and first
        and not _needs_recount(flagged=answer.flagged, annotation_count=1, needs_review=task.needs_review)
    )


def _answers_announce(dataset: Dataset) -> None:
    # A matching dataset's conflict check is not asked for here: the worker's sweep finds the answers
    # (labeling.kinds.matching.checks), so a submit pays no statement for it.
    transaction.on_commit(partial(answers_submitted.send, sender=Annotation, dataset=dataset))


def annotation_submit(
    *,
    task: Task,
    user: AbstractBaseUser,
    label: Label | None,
    flagged: bool = False,
    active_seconds: float | None = None,
    suggestions_shown: bool = False,
    value: list | None = None,
) -> Annotation:
    """Record the user's answer for a task; answering again changes it (history keeps both). A kind answered
    with values gives `value` (checked by the kind's `answer_clean`) instead of a label."""
    answer = TaskAnswer(task=task, label=label, flagged=flagged, value=value)
    _check_answer(answer)
    seconds = _clean_seconds(active_seconds)
    if _may_submit_alone(answer):
        annotation = _submit_in_one_statement(
            answer=answer, user=user, seconds=seconds, suggestions_shown=suggestions_shown, alone=True
        )
        if annotation is not None:
            _answers_announce(task.dataset)  # at once outside a transaction: the statement has committed
            return annotation
    with transaction.atomic():
        annotation = _submit_locked(answer=answer, user=user, seconds=seconds, suggestions_shown=suggestions_shown)
        _answers_announce(annotation.task.dataset)
    return annotation


def annotations_submit(
    *,
    dataset: Dataset,
    user: AbstractBaseUser,
    answers: Sequence[TaskAnswer],
    active_seconds: float | None = None,
    suggestions_shown: bool = False,
) -> list[Annotation]:
    """Record many answers of the user at once (a query judged in a list): all of them, or none when one is
    refused. `active_seconds` is the time spent on them all, shared out equally. Returns them in `answers`' order."""
    if not answers:
        raise ApplicationError("There are no answers to submit.")
    task_ids = [answer.task.pk for answer in answers]
    if len(set(task_ids)) != len(task_ids):
        raise ApplicationError("A task is answered twice in one submission.", extra={"tasks": task_ids})
    foreign = [answer.task.pk for answer in answers if answer.task.dataset_id != dataset.pk]
    if foreign:
        raise ApplicationError("These tasks belong to another dataset.", extra={"tasks": foreign})
    unanswered = [answer.task.pk for answer in answers if not answer.answered]
    if unanswered:
        raise ApplicationError(
            f"{len(unanswered)} of the {len(answers)} answers have neither a label nor a flag: answer or flag them.",
            extra={"tasks": unanswered},
        )
    for answer in answers:
        _check_answer(answer)
    total = _clean_seconds(active_seconds)
    seconds = total / len(answers) if total is not None else None
    with transaction.atomic():
        # In task order: two batches over the same tasks take their row locks in the same order, never in a cycle.
        written = {
            answer.task.pk: _submit_locked(
                answer=answer, user=user, seconds=seconds, suggestions_shown=suggestions_shown
            )
            for answer in sorted(answers, key=lambda answer: answer.task.pk)
        }
        _answers_announce(dataset)
    return [written[task_id] for task_id in task_ids]


def annotation_skip(*, task: Task, user: AbstractBaseUser, active_seconds: float | None = None) -> Annotation:
    """Pass on a task: it never comes back to this user, and stays open for others."""
    seconds = _clean_seconds(active_seconds)
    with transaction.atomic():
        task = _lock_task(task)
        annotation, is_new = _answer_of(task=task, user=user)
        old_label, old_value = annotation.label, annotation.value
        if not is_new and annotation.status == AnnotationStatus.SUBMITTED:
            _recount(task, -1)
        annotation.status = AnnotationStatus.SKIPPED
        annotation.label = None
        annotation.value = None
        annotation.flagged = False
        annotation.active_seconds = seconds
        annotation.save()
        if task.needs_review:  # removing an answer can only settle a disagreement, never start one
            review_flags_refresh(task_ids=[task.pk])
        leases_release(task_ids=[task.pk], user=user, now=timezone.now())
        label_event_record(
            task=task, action=EventAction.SKIP, user=user, old_label=old_label, old_value=old_value,
            annotation=annotation,
        )
    return annotation


def annotations_skip(
    *, dataset: Dataset, user: AbstractBaseUser, tasks: Sequence[Task], active_seconds: float | None = None
) -> list[Annotation]:
    """Pass on many tasks at once (a query in a list): all of them or none, the time shared out equally."""
    if not tasks:
        raise ApplicationError("There is nothing to skip.")
    foreign = [task.pk for task in tasks if task.dataset_id != dataset.pk]
    if foreign:
        raise ApplicationError("These tasks belong to another dataset.", extra={"tasks": foreign})
    total = _clean_seconds(active_seconds)
    seconds = total / len(tasks) if total is not None else None
    with transaction.atomic():
        return [
            annotation_skip(task=task, user=user, active_seconds=seconds)
            for task in sorted(tasks, key=lambda task: task.pk)
        ]


def _undo_locked(*, dataset: Dataset, user: AbstractBaseUser, annotation_id: int, task_id: int) -> Task:
    """Remove one answer of the user inside the caller's transaction, and lease its task back to them."""
    task = _lock_task(Task(pk=task_id))
    annotation = Annotation.objects.select_related("label", "value").get(pk=annotation_id)
    if annotation.status == AnnotationStatus.SUBMITTED:
        _recount(task, -1)
    label_event_record(
        task=task,
        action=EventAction.UNDO,
        user=user,
        old_label=annotation.label,
        old_value=annotation.value,
        annotation=annotation,
        flagged=annotation.flagged,
    )
    annotation.delete()
    if task.needs_review:
        review_flags_refresh(task_ids=[task.pk])
    lease_grant(dataset=dataset, task=task, user=user, now=timezone.now())
    return task


def _latest_answers(*, dataset: Dataset, user: AbstractBaseUser) -> QuerySet[Annotation]:
    return Annotation.objects.filter(dataset=dataset, user=user).order_by("-updated_at", "-id")


def annotation_undo(*, dataset: Dataset, user: AbstractBaseUser) -> Task:
    """Reopen the user's most recent answer (submit or skip): it is removed and the task leased back to them."""
    with transaction.atomic():
        last = _latest_answers(dataset=dataset, user=user).values_list("pk", "task_id").first()
        if last is None:
            raise ApplicationError("Nothing to undo.")
        task = _undo_locked(dataset=dataset, user=user, annotation_id=last[0], task_id=last[1])
        # A removed answer leaves no newer one for the sweep to find: the check is asked for now.
        pair_conflicts_check_request(dataset=dataset)
    return task


def query_undo(*, dataset: Dataset, user: AbstractBaseUser) -> list[Task]:
    """Reopen the query of the user's most recent answer (judged in a list, it was confirmed whole): each of
    their answers to it is removed and its task leased back to them."""
    with transaction.atomic():
        last = _latest_answers(dataset=dataset, user=user).values_list("task__query_id", flat=True)[:1]
        if not last:
            raise ApplicationError("Nothing to undo.")
        if last[0] is None:
            raise ApplicationError("Your last answer is not a query's: undo it on the single page.")
        answers = (
            Annotation.objects.filter(dataset=dataset, user=user, task__query_id=last[0])
            .order_by("task_id")
            .values_list("pk", "task_id")
        )
        return [
            _undo_locked(dataset=dataset, user=user, annotation_id=annotation_id, task_id=task_id)
            for annotation_id, task_id in answers
        ]
