"""Cancel or retry an import from its page; the upload, mapping and progress pages are in views.py."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from config.jobs.views import job_action_response
from workspace.selectors import import_job_get


@login_required
@require_POST
def import_action(request: HttpRequest, job_id: int, action: str) -> HttpResponse:
    """Cancel a draft, waiting or running import (committed batches stay), or queue a failed or cancelled one
    again: it resumes after its last committed batch."""
    job = import_job_get(user=request.user, job_id=job_id)
    back_to = reverse("workspace:import-detail", args=[job.pk])
    return job_action_response(request, job=job, action=action, back_to=back_to)
