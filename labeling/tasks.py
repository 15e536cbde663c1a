from celery import shared_task

from labeling.quality.report import quality_report_run


@shared_task(acks_late=True)
def quality_report_task(report_id: int) -> str:
    # Safe to redeliver: a finished report is left as it is, one whose worker died is computed again.
    report = quality_report_run(report_id=report_id)
    return report.status if report else "gone"


@shared_task(acks_late=True)
def pair_conflicts_check_task(dataset_id: int) -> int | None:
    # Safe to run twice: a check recomputes the dataset's conflicts from its answers as they are now.
    from labeling.kinds.matching.clustering import pair_conflicts_check_run

    return pair_conflicts_check_run(dataset_id=dataset_id)
