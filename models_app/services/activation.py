"""What every training run does with its model, whatever it trained: store it, then make it the active one."""

import time

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from config.jobs.lifecycle import JobRun
from models_app.models import ModelVersion, VersionStatus


def version_store(run: JobRun, *, artifact: bytes, **figures: object) -> None:
    """Store the fitted model and the run's figures, and move the run on to scoring.

    Fenced by the run's claim: a cancelled or replaced run deletes the file it stored and stops.
    """
    version = run.job
    version.artifact.save(f"dataset-{version.dataset_id}-v{version.number}.pkl", ContentFile(artifact), save=False)
    if not run.update(artifact=version.artifact.name, status=VersionStatus.SCORING, **figures):
        default_storage.delete(version.artifact.name)
        run.check()


def version_activate(
    run: JobRun, *, timings: dict, started: float, gathered: float, trained: float, scored: int, warm: bool
) -> None:
    """Make the run's version the active one, with how long each step took (perf_counter marks).

    Fenced by the run's claim: a run cancelled at the last moment rolls back and the previous model stays active.
    """
    finished = time.perf_counter()
    timings = {
        **timings,
        "gather_s": round(gathered - started, 3),
        "train_s": round(trained - gathered, 3),
        "rescore_s": round(finished - trained, 3),
        "total_s": round(finished - started, 3),
        "cold_start": not warm,
    }
    with transaction.atomic():
        ModelVersion.objects.filter(dataset_id=run.job.dataset_id, is_active=True).update(is_active=False)
        if not run.finish(VersionStatus.SUCCEEDED, "", is_active=True, scored_count=scored, timings=timings):
            transaction.set_rollback(True)
    run.check()
