"""The worker's side of the sweeper: a Celery boot step, importable before Django is set up."""

import logging
import threading

from celery import bootsteps

logger = logging.getLogger(__name__)


class JobSweeper(bootsteps.StartStopStep):
    """Runs `jobs_sweep` every JOB_SWEEP_SECONDS in a thread of the worker's main process (0: off), then sends
    `swept` for the periodic checks of the apps (the automatic training trigger, the matching conflict checks)."""

    def __init__(self, worker: object, **kwargs: object) -> None:
        super().__init__(worker, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, worker: object) -> None:
        from django.conf import settings

        if settings.JOB_SWEEP_SECONDS > 0:
            self._thread = threading.Thread(
                target=self._loop, args=(settings.JOB_SWEEP_SECONDS,), name="job sweeper", daemon=True
            )
            self._thread.start()

    def stop(self, worker: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self, interval: float) -> None:
        from django.db import connection

        from config.jobs.signals import swept
        from config.jobs.sweeper import jobs_sweep

        try:
            while not self._stop.wait(interval):
                try:
                    jobs_sweep()
                    swept.send(sender=JobSweeper)
                except Exception:  # the database may be away for a moment: sweep again next time
                    logger.exception("job sweep failed")
                    connection.close()
        finally:
            connection.close()
