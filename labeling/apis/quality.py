"""Quality reports and label history through the API; leads only, as on the pages."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.jobs.apis import JobActionApi
from config.pagination import Pagination, paginate
from config.schema import error_responses
from datasets.models import Dataset, Label, Role
from datasets.selectors import dataset_get
from labeling.models import LabelEvent, QualityReport, QualityStatus
from labeling.quality.report import quality_report_latest, quality_report_request, quality_report_retry
from labeling.quality_selectors import quality_report_get, quality_report_pending
from labeling.selectors import task_get, task_history

# The figures are stored JSON; these serializers only document their shape in the schema.


class QualityFleissSerializer(serializers.Serializer):
    kappa = serializers.FloatField(allow_null=True)
    items = serializers.IntegerField(help_text="Products in the computation: those with the most common answer count.")
    raters_per_item = serializers.IntegerField(allow_null=True)


class QualityPairSerializer(serializers.Serializer):
    rater_a = serializers.IntegerField(help_text="A user id; import sources are negative.")
    rater_b = serializers.IntegerField()
    name_a = serializers.CharField(allow_null=True)
    name_b = serializers.CharField(allow_null=True)
    items = serializers.IntegerField()
    agreement = serializers.FloatField()
    kappa = serializers.FloatField(allow_null=True, help_text="Cohen's kappa; pairs sharing 10 products or more.")


class QualityLevelSerializer(serializers.Serializer):
    depth = serializers.IntegerField()
    ratings = serializers.IntegerField()
    percent_agreement = serializers.FloatField(allow_null=True)
    alpha = serializers.FloatField(allow_null=True)


class QualityLabelSerializer(serializers.Serializer):
    label_id = serializers.IntegerField()
    path = serializers.CharField()
    answers = serializers.IntegerField()
    ratings = serializers.IntegerField()
    specific_agreement = serializers.FloatField(allow_null=True)
    kappa = serializers.FloatField(allow_null=True, help_text="Fleiss' per-category kappa.")


class QualityAnnotatorSerializer(serializers.Serializer):
    rater = serializers.IntegerField(help_text="A user id; import sources are negative.")
    name = serializers.CharField()
    labels = serializers.IntegerField()
    skips = serializers.IntegerField()
    labels_per_hour = serializers.FloatField(allow_null=True)
    median_seconds = serializers.FloatField(allow_null=True)
    majority_agreement = serializers.FloatField(allow_null=True)
    majority_items = serializers.IntegerField()
    gold_items = serializers.IntegerField()
    gold_correct = serializers.IntegerField()
    gold_accuracy = serializers.FloatField(allow_null=True)
    gold_interval = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="95% Wilson interval [low, high]."
    )
    top_label_share = serializers.FloatField(allow_null=True)
    distribution_distance = serializers.FloatField(allow_null=True, help_text="Jensen-Shannon distance to the team.")
    flags = serializers.ListField(child=serializers.CharField(), help_text='"same label", "fast", "unusual labels".')


class QualityConfusionSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField(), help_text="Label paths, the most used first.")
    matrix = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class QualityDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    answers = serializers.IntegerField()
    labeled = serializers.IntegerField(help_text="Products answered for the first time that day.")
    labeled_total = serializers.IntegerField()


class QualityFiguresSerializer(serializers.Serializer):
    answers = serializers.IntegerField()
    items = serializers.IntegerField()
    items_with_overlap = serializers.IntegerField()
    percent_agreement = serializers.FloatField(allow_null=True)
    fleiss = QualityFleissSerializer()
    alpha = serializers.FloatField(allow_null=True, help_text="Krippendorff's alpha (nominal).")
    pairs = QualityPairSerializer(many=True)
    levels = QualityLevelSerializer(many=True)
    per_label = QualityLabelSerializer(many=True)
    annotators = QualityAnnotatorSerializer(many=True)
    gold_items = serializers.IntegerField()
    confusion = QualityConfusionSerializer()
    activity = QualityDaySerializer(many=True)


class QualityPendingSerializer(serializers.ModelSerializer):

    class Meta:
        model = QualityReport
        fields = ["id", "status", "created_at", "started_at"]


class QualityReportSerializer(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField()

    class Meta:
        model = QualityReport
        fields = [
            "id", "status", "message", "worker", "created_at", "started_at", "finished_at", "last_annotation_id",
            "figures",
        ]

    @extend_schema_field(QualityFiguresSerializer(allow_null=True))
    def get_figures(self, report: QualityReport) -> dict | None:
        """Null until the report is computed."""
        return report.figures if report.status == QualityStatus.SUCCEEDED else None


class QualityLatestSerializer(QualityReportSerializer):
    pending = serializers.SerializerMethodField()

    class Meta(QualityReportSerializer.Meta):
        fields = [*QualityReportSerializer.Meta.fields, "pending"]

    @extend_schema_field(QualityPendingSerializer(allow_null=True))
    def get_pending(self, report: QualityReport) -> dict | None:
        """A newer report queued or running, if any."""
        pending = self.context["pending"]
        return QualityPendingSerializer(pending).data if pending else None


class QualityMissingSerializer(serializers.Serializer):
    detail = serializers.CharField()
    # Absent from the plain 404 of a dataset that does not exist or is not yours.
    pending = QualityPendingSerializer(
        allow_null=True, required=False, help_text="A report queued or running, when no report is ready yet."
    )


def _lead_dataset(request: Request, dataset_id: int) -> Dataset:
    try:
        return dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
    except PermissionDenied as error:
        raise exceptions.PermissionDenied("Annotators cannot see others' statistics.") from error


class QualityReportApi(APIView):
    @extend_schema(
        responses={
            200: QualityLatestSerializer,
            404: OpenApiResponse(QualityMissingSerializer, description="No report is ready yet (or no such dataset)."),
        },
        description="The latest ready quality report of the dataset, with the status of a newer one being computed.",
    )
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = _lead_dataset(request, dataset_id)
        latest = quality_report_latest(dataset=dataset)
        pending = quality_report_pending(dataset=dataset)
        if latest is None:
            return Response(
                {
                    "detail": "No quality report is ready yet; POST to this URL to compute one.",
                    "pending": QualityPendingSerializer(pending).data if pending else None,
                },
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(QualityLatestSerializer(latest, context={"pending": pending}).data)

    @extend_schema(
        request=None,
        responses={202: QualityReportSerializer, **error_responses(503)},
        description="Queue a computation in the worker; a request made while one waits joins it. "
        "Poll GET until the report's id is the latest.",
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = _lead_dataset(request, dataset_id)
        report = quality_report_request(dataset=dataset, user=request.user)
        return Response(QualityReportSerializer(report).data, status=status.HTTP_202_ACCEPTED)


class QualityReportDetailApi(APIView):
    @extend_schema(responses=QualityReportSerializer, description="One report, whatever its status.")
    def get(self, request: Request, report_id: int) -> Response:
        return Response(QualityReportSerializer(_lead_report(request, report_id)).data)


@extend_schema(request=None, responses={202: QualityReportSerializer, **error_responses(409, 503)})
class QualityReportActionApi(JobActionApi):
    """Cancel a waiting or running computation, or retry a failed or cancelled one (a new report, or the one
    already waiting)."""

    serializer_class = QualityReportSerializer

    def get_job(self, request: Request, report_id: int) -> QualityReport:
        return _lead_report(request, report_id)

    def retry(self, job: QualityReport, user: AbstractBaseUser) -> QualityReport:
        return quality_report_retry(report=job, user=user)


def _lead_report(request: Request, report_id: int) -> QualityReport:
    try:
        return quality_report_get(user=request.user, report_id=report_id)
    except PermissionDenied as error:
        raise exceptions.PermissionDenied("Annotators cannot see others' statistics.") from error


class LabelEventLabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "path"]


class LabelEventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(
        source="user.username", allow_null=True, help_text="Null for imports; see source_name."
    )
    old_label = LabelEventLabelSerializer(allow_null=True)
    new_label = LabelEventLabelSerializer(allow_null=True)

    class Meta:
        model = LabelEvent
        fields = [
            "id",
            "created_at",
            "action",
            "user",
            "source",
            "source_name",
            "old_label",
            "new_label",
            "flagged",
            "annotation_id",
        ]


class TaskHistoryApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope

    @extend_schema(
        responses=LabelEventSerializer(many=True),
        description="Every label event of the task (create, change, skip, undo, import, review), oldest first.",
    )
    def get(self, request: Request, task_id: int) -> Response:
        task = task_get(user=request.user, task_id=task_id)
        _lead_dataset(request, task.dataset_id)
        return paginate(request, self, task_history(task=task), LabelEventSerializer)
