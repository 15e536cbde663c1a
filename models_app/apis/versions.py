from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.jobs.apis import JobActionApi
from config.pagination import Pagination, paginate
from config.schema import error_responses
from datasets.models import Role
from datasets.selectors import dataset_get
from models_app.ml import headline
from models_app.models import ModelVersion
from models_app.selectors import model_version_get, model_version_list
from models_app.services.training import model_version_retry, training_request


def _interval_field() -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(), min_length=2, max_length=2, allow_null=True, help_text="95% Wilson [low, high]."
    )


class ModelLevelFigureSerializer(serializers.Serializer):
    accuracy = serializers.FloatField()
    interval = _interval_field()


class ModelFiguresSerializer(serializers.Serializer):
    """The figures to show of `metrics`: none (and why) when fewer than 30 labels were held out. A categorizer
    has an accuracy; a matcher has precision, recall and F1 at its threshold."""

    n = serializers.IntegerField(help_text="Labels the figures were measured on (held out, or scored out of fold).")
    evaluated_on = serializers.ChoiceField(choices=["holdout", "cross-validation", "training"], allow_null=True)
    folds = serializers.IntegerField(allow_null=True)
    accuracy = serializers.FloatField(allow_null=True)
    accuracy_interval = _interval_field()
    macro_f1 = serializers.FloatField(allow_null=True)
    level_accuracy = ModelLevelFigureSerializer(many=True)
    precision = serializers.FloatField(allow_null=True, help_text="A matcher's, at its threshold.")
    recall = serializers.FloatField(allow_null=True, help_text="A matcher's, at its threshold.")
    f1 = serializers.FloatField(allow_null=True, help_text="A matcher's, at its threshold.")
    threshold = serializers.FloatField(allow_null=True, help_text="A matcher's: p(match) from which a pair matches.")
    average_precision = serializers.FloatField(allow_null=True, help_text="A matcher's, over every threshold.")
    withheld = serializers.CharField(
        allow_null=True, help_text='Why there are no figures, e.g. "too few held-out labels: 7".'
    )


class ModelVersionSerializer(serializers.ModelSerializer):
    figures = serializers.SerializerMethodField()

    class Meta:
        model = ModelVersion
        fields = [
            "id", "dataset", "number", "status", "worker", "trigger", "is_active", "config", "label_count", "split",
            "metrics", "figures", "timings", "scored_count", "error", "created_at", "started_at", "finished_at",
        ]
        extra_kwargs = {"error": {"source": "message"}}

    @extend_schema_field(ModelFiguresSerializer(allow_null=True))
    def get_figures(self, version: ModelVersion) -> dict | None:
        """Null until the run has measured its model."""
        return headline(version.metrics) if "n" in (version.metrics or {}) else None


class ModelVersionListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return paginate(request, self, model_version_list(dataset=dataset), ModelVersionSerializer)


class ModelTrainApi(APIView):
    @extend_schema(request=None, responses={202: ModelVersionSerializer, **error_responses(503)})
    def post(self, request: Request, dataset_id: int) -> Response:
        """Train now, in the worker. A run already waiting for this dataset absorbs the request."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        version = training_request(dataset=dataset, user=request.user)
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class ModelVersionDetailApi(APIView):
    @extend_schema(responses=ModelVersionSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        return Response(ModelVersionSerializer(model_version_get(user=request.user, version_id=version_id)).data)


@extend_schema(request=None, responses={202: ModelVersionSerializer, **error_responses(409, 503)})
class ModelVersionActionApi(JobActionApi):
    """Cancel a waiting or running training run (the active model stays), or retry a failed or cancelled one:
    that requests a new version with the dataset's current settings (a finished version never changes)."""

    serializer_class = ModelVersionSerializer

    def get_job(self, request: Request, version_id: int) -> ModelVersion:
        return model_version_get(user=request.user, version_id=version_id)

    def retry(self, job: ModelVersion, user: AbstractBaseUser) -> ModelVersion:
        return model_version_retry(version=job, user=user)
