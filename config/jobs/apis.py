"""Cancel and retry, the same two buttons for every kind of job; each app says how to find and retry its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.jobs.lifecycle import job_cancel, job_requeue
from config.jobs.models import Job


class JobActionApi(APIView):
    """POST .../cancel/ stops a queued or running job; POST .../retry/ queues a failed or cancelled one again.

    A running job stops at its worker's next step, within a heartbeat; what it finished is kept (an import's
    committed batches) or thrown away (an export's partial file, a training run's model). 409 when the job is
    in a state that does not allow it.
    """

    job_action: ClassVar[str] = ""  # "cancel" or "retry": set per URL with as_view(job_action=...)
    serializer_class: ClassVar[type[serializers.Serializer]]
    # Each kind's view: the job named by the URL, for a lead of its dataset (404 outside, 403 below lead).
    get_job: Callable[..., Job]

    def retry(self, job: Job, user: AbstractBaseUser) -> Job:
        """The same job queued again; kinds whose finished runs never change (training) make a new one."""
        return job_requeue(job)

    def post(self, request: Request, **kwargs: Any) -> Response:
        job = self.get_job(request, **kwargs)
        if self.job_action == "cancel":
            job = job_cancel(job, by=request.user.get_username())
        else:
            job = self.retry(job, request.user)
        return Response(self.serializer_class(job).data, status=status.HTTP_202_ACCEPTED)
