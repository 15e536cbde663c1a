from celery import shared_task

from workspace.services.candidates import candidate_run_execute
from workspace.services.exports import export_run
from workspace.services.imports import import_job_run


@shared_task(acks_late=True)
def import_job_run_task(job_id: int) -> str:
    # Safe to redeliver: the claim lets one worker in, and a resumed job starts after its last committed batch.
    job = import_job_run(job_id=job_id)
    return job.status if job else "gone"


@shared_task(acks_late=True)
def export_run_task(export_id: int) -> str:
    # Safe to redeliver: a finished export is left as it is, an interrupted one is rebuilt from the start.
    export = export_run(export_id=export_id)
    return export.status if export else "gone"


@shared_task(acks_late=True)
def candidates_run(run_id: int) -> str:
    # Safe to redeliver: the claim lets one worker in; a run whose worker died runs again and finds the pairs
    # it already wrote.
    run = candidate_run_execute(run_id=run_id)
    return run.status if run else "gone"
