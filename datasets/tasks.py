from celery import shared_task

from datasets.services.imports import import_job_run


@shared_task(acks_late=True)
def import_job_run_task(job_id: int) -> str:
    # Safe to redeliver: the service resumes after the last committed batch and ignores finished jobs.
    return import_job_run(job_id=job_id).status
