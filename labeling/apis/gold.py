from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.models import Role
from datasets.selectors import dataset_get
from labeling.gold import gold_item_count, gold_promote_imported, gold_sources


class GoldPromoteInputSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=100, help_text="An import source whose labels are trusted.")
    limit = serializers.IntegerField(
        required=False, min_value=1, help_text="At most this many, in the dataset's seeded random order."
    )


_SOURCES = inline_serializer(
    "GoldSources",
    fields={
        "gold_items": serializers.IntegerField(),
        "sources": inline_serializer(
            "GoldSource", fields={"source": serializers.CharField(), "tasks": serializers.IntegerField()}, many=True
        ),
    },
)


class GoldApi(APIView):
    @extend_schema(responses=_SOURCES, description="Gold items so far, and the import sources that could add some.")
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        gold_items = gold_item_count(dataset=dataset)
        return Response({"gold_items": gold_items, "sources": gold_sources(dataset=dataset)})

    @extend_schema(
        request=GoldPromoteInputSerializer,
        responses={200: inline_serializer("GoldPromoted", fields={"promoted": serializers.IntegerField()})},
        description="Make the tasks an import source labeled gold items with that label (unannounced tests).",
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = GoldPromoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        promoted = gold_promote_imported(dataset=dataset, **serializer.validated_data)
        return Response({"promoted": promoted}, status=status.HTTP_200_OK)
