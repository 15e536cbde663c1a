from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import Pagination, paginate
from config.serializer_fields import ModelFieldsOnce, SharedOutputFields
from datasets.models import Label, Product, Role
from datasets.selectors import dataset_get, label_list, label_search, product_list


class LabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "name", "path", "code", "depth", "parent", "synonyms"]
        read_only_fields = fields


class ProductSerializer(SharedOutputFields, ModelFieldsOnce, serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
            "external_id",
            "title",
            "description",
            "brand",
            "price",
            "currency",
            "image_url",
            "url",
            "attributes",
        ]


class LabelListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    @extend_schema(
        parameters=[OpenApiParameter("search", str, description="Words that must all appear in the path.")],
        responses=LabelSerializer(many=True),
    )
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id)
        search = request.query_params.get("search", "")
        if search:
            return paginate(request, self, label_search(dataset=dataset, query=search, limit=None), LabelSerializer)
        return paginate(request, self, label_list(dataset=dataset), LabelSerializer)


class ProductListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    @extend_schema(responses=ProductSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return paginate(request, self, product_list(dataset=dataset), ProductSerializer)
