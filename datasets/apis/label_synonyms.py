from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from datasets.apis.catalog import LabelSerializer
from datasets.models import Dataset, Label, Role
from datasets.selectors import dataset_get, label_get
from datasets.services.label_synonyms import label_synonyms_set


class LabelSynonymsSerializer(serializers.Serializer):
    synonyms = serializers.ListField(child=serializers.CharField(allow_blank=True, trim_whitespace=True))


def _label(dataset: Dataset, label_id: int) -> Label:
    """The label named in the URL: another dataset's or a missing one is a 404, as a missing page is."""
    try:
        return label_get(dataset=dataset, pk=label_id)
    except ApplicationError as error:
        raise NotFound(error.message) from error


class LabelDetailApi(APIView):
    @extend_schema(responses=LabelSerializer)
    def get(self, request: Request, dataset_id: int, label_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(LabelSerializer(_label(dataset, label_id)).data)

    @extend_schema(request=LabelSynonymsSerializer, responses=LabelSerializer)
    def patch(self, request: Request, dataset_id: int, label_id: int) -> Response:
        """A lead sets the label's synonyms: the annotators' search matches them as it matches names."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = LabelSynonymsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        label = label_synonyms_set(label=_label(dataset, label_id), **serializer.validated_data)
        return Response(LabelSerializer(label).data)
