"""The matching kind's own tables (labeling's, imported by labeling/models.py): contradictions among pair answers.

A contradiction is a labeled no-match A != C whose products a chain of labeled matches joins (A = B, B = C).
`PairConflict` has one row per task of such a chain (the no-match and every match on it), so a task's review
page finds its conflicts by the task alone; `pair_conflicts_refresh` (clustering.py) opens and closes them.
"""

from django.db import models
from django.db.models import Q

from datasets.models import Dataset


class PairConflict(models.Model):
    """A task's part in a contradiction, open until the answers no longer contradict each other."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey("labeling.Task", on_delete=models.CASCADE, related_name="pair_conflicts")
    # The contradiction's identity: its no-match task (its chain may change while it holds).
    no_match_task = models.ForeignKey("labeling.Task", on_delete=models.CASCADE, related_name="+")
    path = models.JSONField(help_text="The match tasks of the chain, from the no-match's left product to its right.")
    products = models.JSONField(help_text="The chain's product ids, both ends included.")
    detected_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "labeling"
        constraints = [
            models.UniqueConstraint(
                fields=["task", "no_match_task"], condition=Q(resolved_at=None), name="pair_conflict_one_open"
            ),
        ]
        indexes = [
            # The open conflicts of a dataset: few rows among the closed ones, found without a scan.
            models.Index(fields=["dataset", "no_match_task"], condition=Q(resolved_at=None), name="pair_conflict_open"),
        ]

    def __str__(self) -> str:
        return f"task {self.task_id} in the conflict of no-match task {self.no_match_task_id}"


class PairConflictCheck(models.Model):
    """One row per matching dataset: whether a conflict check is waiting, so answers given meanwhile join it, and
    which answers the last one read, so the worker's sweep knows when the next is due."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, primary_key=True, related_name="+")
    requested_at = models.DateTimeField(null=True, blank=True, help_text="Set while a check waits in the queue.")
    checked_at = models.DateTimeField(null=True, blank=True)
    answers_seen_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text="The last check read every answer changed before this time; one changed since makes a check due.",
    )
    figures = models.JSONField(
        default=dict, blank=True, help_text="The last check's clusters, largest cluster and open contradictions."
    )

    class Meta:
        app_label = "labeling"

    def __str__(self) -> str:
        return f"conflict check of dataset {self.dataset_id}"
