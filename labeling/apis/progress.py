"""A dataset's labeling progress, for its leads."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.models import Role
from datasets.selectors import dataset_get
from labeling.selectors import dataset_progress


class ProgressSerializer(serializers.Serializer):
    products = serializers.IntegerField()
    labels = serializers.IntegerField()
    tasks = serializers.IntegerField()
    complete = serializers.IntegerField()
    submitted = serializers.IntegerField()
    skipped = serializers.IntegerField()
    flagged = serializers.IntegerField()


class DatasetProgressApi(APIView):
    @extend_schema(responses=ProgressSerializer)
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return Response(dataset_progress(dataset=dataset))
