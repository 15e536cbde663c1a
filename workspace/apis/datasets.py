from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.pagination import Pagination, paginate
from datasets.models import Dataset, Role
from datasets.selectors import dataset_create_allowed, dataset_get, dataset_list, membership_list
from datasets.services.datasets import (
    CREATE_ONLY_FIELDS,
    EDITABLE_FIELDS,
    membership_remove,
    membership_set,
    memberships_add,
)
from labeling.kinds import KINDS
from labeling.kinds.relevance.grades import SCALES
from workspace.services.datasets import dataset_create, dataset_update

SETTINGS_FIELDS = [*EDITABLE_FIELDS, *CREATE_ONLY_FIELDS]


class DatasetOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = ["id", *SETTINGS_FIELDS, "created_at"]


class DatasetInputSerializer(serializers.ModelSerializer):
    task_type = serializers.ChoiceField(
        choices=[(kind.name, kind.title) for kind in KINDS.values()],
        required=False,
        help_text="The task kind, chosen at creation (categorization by default); it cannot change afterwards.",
    )
    grade_scale = serializers.ChoiceField(
        choices=list(SCALES),
        required=False,
        allow_blank=True,
        help_text="Search relevance: the scale judges grade on (esci by default, graded 0-3, binary); chosen at "
        "creation.",
    )

    span_types = serializers.ListField(
        child=serializers.CharField(max_length=50),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="Attribute spans: the span types, on keys 1-9 in this order (default BRAND, MODEL, COLOR, SIZE, "
        "CAPACITY, MATERIAL, QUANTITY, GENDER); chosen at creation, they become the dataset's labels.",
    )

    class Meta:
        model = Dataset
        fields = [*SETTINGS_FIELDS, "span_types"]


class DatasetListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    @extend_schema(responses=DatasetOutputSerializer(many=True))
    def get(self, request: Request) -> Response:
        return paginate(request, self, dataset_list(user=request.user), DatasetOutputSerializer)

    @extend_schema(request=DatasetInputSerializer, responses={201: DatasetOutputSerializer})
    def post(self, request: Request) -> Response:
        if not dataset_create_allowed(user=request.user):
            raise PermissionDenied("Only leads and admins create datasets.")
        serializer = DatasetInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = dataset_create(user=request.user, **serializer.validated_data)
        return Response(DatasetOutputSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    @extend_schema(responses=DatasetOutputSerializer)
    def get(self, request: Request, dataset_id: int) -> Response:
        return Response(DatasetOutputSerializer(dataset_get(user=request.user, dataset_id=dataset_id)).data)

    @extend_schema(request=DatasetInputSerializer, responses=DatasetOutputSerializer)
    def patch(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = DatasetInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = {
            k: v for k, v in serializer.validated_data.items() if k not in (*CREATE_ONLY_FIELDS, "span_types")
        }
        return Response(DatasetOutputSerializer(dataset_update(dataset=dataset, **changes)).data)


class MembershipSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class MembershipInputSerializer(serializers.Serializer):
    username = serializers.CharField(required=False, help_text="One account to add or to give another role.")
    usernames = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_empty=False,
        help_text="Several accounts by username or email, all with `role`: all or none, the refused ones listed in "
        "`extra.refused`. Accounts are not created (an invite link does that).",
    )
    role = serializers.ChoiceField(choices=Role.choices)

    def validate(self, data: dict) -> dict:
        if ("username" in data) == ("usernames" in data):
            raise serializers.ValidationError("Give either username or usernames.")
        return data


class MembershipListApi(APIView):
    @extend_schema(responses=MembershipSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        members = [{"username": m.user.username, "role": m.role} for m in membership_list(dataset=dataset)]
        return Response(members)

    @extend_schema(
        request=MembershipInputSerializer,
        responses={201: MembershipSerializer(many=True)},
        description="With `username`, the one membership (an object); with `usernames`, the list of them.",
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = MembershipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "username" in data:
            membership = membership_set(dataset=dataset, username=data["username"], role=data["role"])
            return Response({"username": membership.user.username, "role": membership.role}, status=201)
        added = memberships_add(dataset=dataset, names=list(dict.fromkeys(data["usernames"])), role=data["role"])
        return Response([{"username": m.user.username, "role": m.role} for m in added], status=201)


class MembershipDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, dataset_id: int, username: str) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        membership_remove(dataset=dataset, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)
