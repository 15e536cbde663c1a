from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import Pagination, paginate
from datasets.models import Role
from datasets.selectors import dataset_get
from models_app.models import ModelVersion
from models_app.selectors import model_version_get, model_version_list
from models_app.services.training import training_request


class ModelVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = [
            "id", "dataset", "number", "status", "trigger", "is_active", "config", "label_count", "split",
            "metrics", "timings", "scored_count", "error", "created_at", "started_at", "finished_at",
        ]


class ModelVersionListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    @extend_schema(responses=ModelVersionSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return paginate(request, self, model_version_list(dataset=dataset), ModelVersionSerializer)


class ModelTrainApi(APIView):
    @extend_schema(request=None, responses={202: ModelVersionSerializer})
    def post(self, request: Request, dataset_id: int) -> Response:
        """Train now, in the worker. A run already waiting for this dataset absorbs the request."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        version = training_request(dataset=dataset, user=request.user)
        return Response(ModelVersionSerializer(version).data, status=status.HTTP_202_ACCEPTED)


class ModelVersionDetailApi(APIView):
    @extend_schema(responses=ModelVersionSerializer)
    def get(self, request: Request, version_id: int) -> Response:
        return Response(ModelVersionSerializer(model_version_get(user=request.user, version_id=version_id)).data)
