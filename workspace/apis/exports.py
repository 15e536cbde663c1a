from types import SimpleNamespace

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError, ConflictError
from config.jobs.apis import JobActionApi
from config.pagination import Pagination
from config.schema import error_responses
from datasets.exporters import CONTENT_TYPES
from datasets.models import Role
from datasets.selectors import dataset_get
from labeling.kinds import KINDS
from labeling.kinds.matching.clustering import LABELED as CLUSTER_LABELED
from labeling.kinds.matching.clustering import PREDICTED as CLUSTER_PREDICTED
from labeling.resolve import LabelPolicy
from workspace.export_views import export_file_response
from workspace.models import Export, ExportFormat, ExportStatus
from workspace.selectors import export_get, export_list
from workspace.services.exports import export_create


class ExportOutputSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "dataset",
            "format",
            "policy",
            "params",
            "status",
            "progress",
            "filename",
            "row_count",
            "rows_done",
            "rows_total",
            "size_bytes",
            "sha256",
            "split_counts",
            "message",
            "worker",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download_url(self, export: Export) -> str | None:
        if export.status != ExportStatus.SUCCEEDED:
            return None
        return self.context["request"].build_absolute_uri(reverse("api-export-download", args=[export.pk]))


SPLIT_HELP = 'Train, dev and test fractions: "0.8,0.1,0.1" or [0.8, 0.1, 0.1]; omitted or null for no split.'


def _unknown(name: str, values: list[str]) -> dict[str, str]:
    return {"invalid_choice": f'Unknown {name} "{{input}}"; choose one of {", ".join(values)}.'}


class ExportInputSerializer(serializers.Serializer):
    """Types and choices here; the export service checks the values (ranges, split) and names a bad one."""

    format = serializers.ChoiceField(
        choices=ExportFormat.choices,
        error_messages=_unknown("format", ExportFormat.values),
        help_text="The formats of the dataset's task kind; another is refused. "
        + "; ".join(f"{kind.name}: {', '.join(kind.export_formats)}" for kind in KINDS.values())
        + ".",
    )
    policy = serializers.ChoiceField(
        choices=LabelPolicy.choices,
        default=LabelPolicy.FINAL,
        error_messages=_unknown("policy", LabelPolicy.values),
        help_text="predicted (categorization, tabular formats, no split): every product, its final label or else the "
        "prediction of the model active when the export is asked for, with label_source and probability columns.",
    )
    min_agreement = serializers.FloatField(required=False, allow_null=True, help_text="Majority only: 0 < x <= 1.")
    min_votes = serializers.IntegerField(required=False, allow_null=True, help_text="Majority only: at least 1.")
    min_confidence = serializers.FloatField(
        required=False,
        allow_null=True,
        help_text="Predicted only: 0 <= x < 1; a product the model predicts with a lower probability is left out "
        "(a final label is always written).",
    )
    include_flagged = serializers.BooleanField(required=False, allow_null=True)
    include_suggestions = serializers.BooleanField(required=False, allow_null=True)
    split = serializers.JSONField(required=False, allow_null=True, help_text=SPLIT_HELP)
    seed = serializers.IntegerField(required=False, allow_null=True, help_text="Seeds the split, 0 to 2**32 - 1.")
    cluster_matches = serializers.ChoiceField(
        choices=[CLUSTER_LABELED, CLUSTER_PREDICTED],
        required=False,
        allow_null=True,
        help_text="The product clusters formats only: clusters from labeled matches (the default), or from labeled "
        "and predicted matches (labeled clusters merged while the active matcher's average match probability over "
        "the pairs between them reaches its threshold).",
    )

    def validate_split(self, value: object) -> object:
        numbers = isinstance(value, list) and all(
            isinstance(part, int | float) and not isinstance(part, bool) for part in value
        )
        if value is not None and not isinstance(value, str) and not numbers:
            raise serializers.ValidationError('split must be a string like "0.8,0.1,0.1" or a list of three numbers.')
        return value

    def options(self) -> dict:
        return {key: value for key, value in self.validated_data.items() if key not in ("format", "policy")}


class _FormatIsAFilter(DefaultContentNegotiation):
    """`?format=` filters exports by file format here, so it must not pick the response's renderer."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


def _choice(request: Request, name: str, values: list[str]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in values:
        raise ApplicationError(f"Unknown {name} {value!r}; choose one of {', '.join(values)}.", extra={name: values})
    return value


class ExportListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    content_negotiation_class = _FormatIsAFilter

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ExportStatus.values, description="Only exports in this status."),
            OpenApiParameter("format", str, enum=ExportFormat.values, description="Only exports in this file format."),
        ],
        responses=ExportOutputSerializer(many=True),
    )
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        exports = export_list(
            dataset=dataset,
            status=_choice(request, "status", ExportStatus.values),
            fmt=_choice(request, "format", ExportFormat.values),
        )
        # As `paginate` does, with the request in the context for the absolute download URLs.
        paginator = Pagination()
        page = paginator.paginate_queryset(exports, request, view=self)
        return paginator.get_paginated_response(
            ExportOutputSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        request=ExportInputSerializer,
        responses={202: ExportOutputSerializer, **error_responses(503)},
        description="Queue a snapshot; the worker builds its file. Poll the export until its status is succeeded.",
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = ExportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        export = export_create(
            dataset=dataset, user=request.user, fmt=data["format"], policy=data["policy"], options=serializer.options()
        )
        output = ExportOutputSerializer(export, context={"request": request})
        return Response(output.data, status=status.HTTP_202_ACCEPTED)


class ExportDetailApi(APIView):
    @extend_schema(responses=ExportOutputSerializer)
    def get(self, request: Request, export_id: int) -> Response:
        export = export_get(user=request.user, export_id=export_id)
        return Response(ExportOutputSerializer(export, context={"request": request}).data)


class ExportDownloadApi(APIView):
    @extend_schema(
        responses={
            **{
                (200, media_type.split(";")[0]): OpenApiResponse(
                    OpenApiTypes.BINARY, description="The stored file in its format's type; ETag is its quoted sha256."
                )
                for media_type in dict.fromkeys(CONTENT_TYPES.values())
            },
            **error_responses(409, s409="The export has not succeeded (yet)."),
        },
        parameters=[OpenApiParameter("export_id", int, OpenApiParameter.PATH)],
        description="The snapshot's file, byte-identical on every download.",
    )
    def get(self, request: Request, export_id: int) -> FileResponse:
        export = export_get(user=request.user, export_id=export_id)
        if export.status != ExportStatus.SUCCEEDED:
            raise ConflictError(f"The export is not ready: {export.status}.")
        return export_file_response(export)


@extend_schema(request=None, responses={202: ExportOutputSerializer, **error_responses(409, 503)})
class ExportActionApi(JobActionApi):
    """Cancel a waiting or running export (its partial file is thrown away), or build a failed or cancelled one
    again (the same snapshot: the same parameters and id)."""

    serializer_class = ExportOutputSerializer

    def get_job(self, request: Request, export_id: int) -> Export:
        return export_get(user=request.user, export_id=export_id)
