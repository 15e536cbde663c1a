import json

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ConflictError
from config.jobs.apis import JobActionApi
from config.pagination import Pagination, paginate
from config.schema import error_responses
from datasets.models import Role
from datasets.selectors import dataset_get
from workspace.models import IMPORT_SUCCEEDED_WITH_REJECTIONS, ImportJob, ImportKind, ImportStatus
from workspace.selectors import import_job_get, import_job_list
from workspace.services.imports import import_error_report, import_job_create


class ImportJobOutputSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    outcome = serializers.ChoiceField(
        choices=[*ImportStatus.values, IMPORT_SUCCEEDED_WITH_REJECTIONS],
        read_only=True,
        help_text="The status as people should read it: a succeeded import that rejected rows is "
        f"'{IMPORT_SUCCEEDED_WITH_REJECTIONS}', so no client shows it as a plain success.",
    )
    outcome_display = serializers.CharField(read_only=True, help_text='For people: "Finished with 3 rejected rows".')

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "dataset",
            "kind",
            "status",
            "outcome",
            "outcome_display",
            "filename",
            "options",
            "progress",
            "bytes_total",
            "bytes_done",
            "records_done",
            "created_count",
            "updated_count",
            "error_count",
            "label_count",
            "lines_read",
            "lines_skipped",
            "message",
            "worker",
            "created_at",
            "started_at",
            "finished_at",
        ]


class ImportJobInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    options = serializers.CharField(
        required=False, help_text='JSON object: {"format", "delimiter", "mapping", "label_column", "label_source"}'
    )

    def validate_options(self, value: str) -> dict:
        try:
            options = json.loads(value) if value else {}
        except json.JSONDecodeError as error:
            raise serializers.ValidationError(f"options is not valid JSON: {error}") from error
        if not isinstance(options, dict):
            raise serializers.ValidationError("options must be a JSON object.")
        return options


class ImportJobListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(responses=ImportJobOutputSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return paginate(request, self, import_job_list(dataset=dataset), ImportJobOutputSerializer)

    @extend_schema(request=ImportJobInputSerializer, responses={202: ImportJobOutputSerializer, **error_responses(503)})
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = ImportJobInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = import_job_create(
            dataset=dataset, user=request.user, kind=data["kind"], file=data["file"], options=data.get("options", {})
        )
        return Response(ImportJobOutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ImportJobDetailApi(APIView):
    @extend_schema(responses=ImportJobOutputSerializer)
    def get(self, request: Request, job_id: int) -> Response:
        return Response(ImportJobOutputSerializer(import_job_get(user=request.user, job_id=job_id)).data)


class ImportJobErrorsApi(APIView):
    @extend_schema(
        responses={(200, "text/csv"): str, **error_responses(409, s409="Not finished, and no row rejected yet.")},
        parameters=[OpenApiParameter("job_id", int, OpenApiParameter.PATH)],
        description="The rejected rows as CSV: line, last_line (of a broken record that covered several), "
        "external_id, reason.",
    )
    def get(self, request: Request, job_id: int) -> StreamingHttpResponse:
        job = import_job_get(user=request.user, job_id=job_id)
        if not job.is_finished and not job.error_count:
            raise ConflictError("The import has not finished and has rejected no rows so far.")
        response = StreamingHttpResponse(import_error_report(job=job), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response


@extend_schema(request=None, responses={202: ImportJobOutputSerializer, **error_responses(409, 503)})
class ImportJobActionApi(JobActionApi):
    """Cancel a waiting or running import (the batches it committed are kept), or queue a failed or cancelled
    one again: it resumes after its last committed batch."""

    serializer_class = ImportJobOutputSerializer

    def get_job(self, request: Request, job_id: int) -> ImportJob:
        return import_job_get(user=request.user, job_id=job_id)
