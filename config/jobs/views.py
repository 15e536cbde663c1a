"""The pages' side of cancel and retry: one POST handler each app's page view calls."""

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from config.errors import ApplicationError
from config.jobs.lifecycle import job_cancel, job_requeue
from config.jobs.models import Job


class JobActionConverter:
    """The `<job_action:action>` of the pages' cancel and retry URLs."""

    regex = "cancel|retry"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


def job_action_response(
    request: HttpRequest,
    *,
    job: Job,
    action: str,
    back_to: str,
    retry: Callable[[Job], Job] = job_requeue,
    announce: bool = True,
) -> HttpResponse:
    """Cancel or retry `job` for the page at `back_to`, saying what happened (unless the page shows the
    job's state live itself: `announce=False`; a flashed "queued" would outlive the job's real state)."""
    try:
        if action == "cancel":
            job = job_cancel(job, by=request.user.get_username())
            if announce:
                messages.success(request, f"The {job.noun} is cancelled.")
        else:
            job = retry(job)
            if announce:
                messages.success(request, f"The {job.noun} is queued again.")
    except ApplicationError as error:
        messages.error(request, error.message)
    return redirect(back_to)
