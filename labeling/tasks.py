from celery import shared_task

from labeling.quality.report import quality_report_run


@shared_task(acks_late=True)
def quality_report_task(report_id: int) -> str:
    # Safe to redeliver: a finished report is left as it is, one whose worker died is computed again.
    report = quality_report_run(report_id=report_id)
    return report.status if report else "gone"
