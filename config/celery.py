import os

from celery import Celery

from config.jobs.worker import JobSweeper

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("shelfmark")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Every worker sweeps for jobs whose message was lost or whose worker died (config/jobs/sweeper.py).
app.steps["worker"].add(JobSweeper)
