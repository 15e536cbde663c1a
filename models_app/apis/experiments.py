from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.jobs.apis import JobActionApi
from config.pagination import Pagination, paginate
from config.schema import error_responses
from datasets.models import Role
from datasets.selectors import dataset_get
from models_app.models import Experiment
from models_app.selectors import experiment_get, experiment_list
from models_app.services.experiments import (
    MAX_CONFIGS,
    experiment_apply,
    experiment_choices,
    experiment_create,
    experiment_retry,
)


class ExperimentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Experiment
        fields = [
            "id", "dataset", "status", "worker", "configs", "folds", "seed", "label_count", "results", "error",
            "created_at", "started_at", "finished_at",
        ]
        extra_kwargs = {"error": {"source": "message"}}


class ExperimentCreateSerializer(serializers.Serializer):
    names = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=f"Configs to compare: {', '.join(name for name, _, _ in experiment_choices())}.",
    )
    custom = serializers.DictField(
        child=serializers.DictField(),
        required=False,
        default=dict,
        help_text="Further configs to compare, {name: model config}; keys missing from a config take the defaults.",
    )
    folds = serializers.IntegerField(default=5, help_text="Folds of the stratified cross-validation, 2 to 10.")


class ExperimentApplySerializer(serializers.Serializer):
    name = serializers.CharField(help_text="The name of one of the experiment's configs.")


class DatasetConfigSerializer(serializers.Serializer):
    dataset = serializers.IntegerField(source="pk")
    model_config = serializers.JSONField()


class ExperimentListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    @extend_schema(responses=ExperimentSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return paginate(request, self, experiment_list(dataset=dataset), ExperimentSerializer)

    @extend_schema(
        request=ExperimentCreateSerializer,
        responses={
            202: ExperimentSerializer,
            **error_responses(409, 503, s409="An experiment is already waiting or running."),
        },
        description=(
            f"Compare 1 to {MAX_CONFIGS} configs by stratified cross-validation on the current labels, in the "
            "worker. Results come best mean accuracy first; one experiment at a time per dataset."
        ),
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = ExperimentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        experiment = experiment_create(dataset=dataset, user=request.user, **serializer.validated_data)
        return Response(ExperimentSerializer(experiment).data, status=status.HTTP_202_ACCEPTED)


class ExperimentDetailApi(APIView):
    @extend_schema(responses=ExperimentSerializer)
    def get(self, request: Request, experiment_id: int) -> Response:
        return Response(ExperimentSerializer(experiment_get(user=request.user, experiment_id=experiment_id)).data)


class ExperimentApplyApi(APIView):
    @extend_schema(request=ExperimentApplySerializer, responses=DatasetConfigSerializer)
    def post(self, request: Request, experiment_id: int) -> Response:
        """Make one of a succeeded experiment's configs the dataset's model config; the next training uses it."""
        experiment = experiment_get(user=request.user, experiment_id=experiment_id)
        serializer = ExperimentApplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = experiment_apply(experiment=experiment, name=serializer.validated_data["name"], user=request.user)
        return Response(DatasetConfigSerializer(dataset).data)


@extend_schema(request=None, responses={202: ExperimentSerializer, **error_responses(409, 503)})
class ExperimentActionApi(JobActionApi):
    """Cancel a waiting or running experiment, or retry a failed or cancelled one: a new experiment with the
    same configs, folds and seed."""

    serializer_class = ExperimentSerializer

    def get_job(self, request: Request, experiment_id: int) -> Experiment:
        return experiment_get(user=request.user, experiment_id=experiment_id)

    def retry(self, job: Experiment, user: AbstractBaseUser) -> Experiment:
        return experiment_retry(experiment=job, user=user)
