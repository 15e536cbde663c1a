"""A quality report of a matching dataset: two-class agreement over pairs, with an unsure answer among them."""

import numpy as np
import pytest

from labeling.models import Annotation, QualityStatus
from labeling.quality import agreement
from labeling.quality.report import quality_report_request, quality_report_run
from labeling.services import annotation_submit
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

pytestmark = pytest.mark.django_db


def test_a_report_of_pairs_holds_two_class_agreement(db):
    dataset = MatchingDatasetFactory(overlap=2)
    match, no_match = dataset.labels.get(code="1"), dataset.labels.get(code="0")
    ann1, ann2 = member(dataset, "ann1"), member(dataset, "ann2")
    for n in range(12):
        task = pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset))
        truth = match if n % 2 else no_match
        annotation_submit(task=task, user=ann1, label=truth)
        if n == 11:
            annotation_submit(task=task, user=ann2, label=None, flagged=True)  # unsure: a flag, no label
        else:
            annotation_submit(task=task, user=ann2, label=truth if n % 3 else match)
    report = quality_report_run(report_id=quality_report_request(dataset=dataset, user=None).pk)
    assert report.status == QualityStatus.SUCCEEDED, report.message
    triples = np.array(
        list(
            Annotation.objects.filter(dataset=dataset, label__isnull=False).values_list(
                "task_id", "user_id", "label_id"
            )
        )
    )
    assert report.figures["answers"] == 23 and report.figures["items_with_overlap"] == 11
    assert report.figures["percent_agreement"] == pytest.approx(agreement.percent_agreement(triples))
    assert report.figures["alpha"] == pytest.approx(agreement.krippendorff_alpha(triples))
    assert {row["path"] for row in report.figures["per_label"]} == {"match", "no match"}
