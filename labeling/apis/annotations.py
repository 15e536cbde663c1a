from contextlib import suppress
from datetime import datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from config.pagination import Pagination
from datasets.models import Dataset, Label, Product, Role
from datasets.selectors import dataset_get, label_get
from labeling.kinds import kind_get
from labeling.models import Annotation, AnnotationStatus, LabelSource
from labeling.selectors import annotation_list, task_items_prefetch

FLAGGED = {"true": True, "false": False}


class AnnotationProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["external_id", "title"]


class AnnotationItemSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="The product's role in the task: 'left' or 'right' for a matching pair.")
    product = AnnotationProductSerializer()


class AnnotationLabelSerializer(serializers.ModelSerializer):
    code = serializers.SerializerMethodField()

    class Meta:
        model = Label
        fields = ["id", "path", "code"]

    def get_code(self, label: Label) -> str | None:
        return label.code or None


# Inline in the schema: AnnotationStatus in a second component would make drf-spectacular's "status" enum
# name collide (a warning, fatal under --fail-on-warn) unless the settings name it in ENUM_NAME_OVERRIDES.
@extend_schema_field({"type": "string", "enum": AnnotationStatus.values})
class AnnotationStatusField(serializers.CharField):
    pass


class AnnotationListOutputSerializer(serializers.ModelSerializer):
    product = AnnotationProductSerializer(
        source="task.single_product", allow_null=True, help_text="The answered product; null for a multi-item task."
    )
    items = serializers.SerializerMethodField()
    status = AnnotationStatusField()
    label = AnnotationLabelSerializer(allow_null=True, help_text="Null for a skip or a flag without a label.")
    annotator = serializers.CharField(
        source="user.username", allow_null=True, help_text="Null for imported labels; see source_name."
    )

    class Meta:
        model = Annotation
        fields = [
            "id",
            "task",
            "product",
            "items",
            "label",
            "status",
            "flagged",
            "source",
            "source_name",
            "annotator",
            "active_seconds",
            "suggestions_shown",
            "created_at",
            "updated_at",
        ]

    @extend_schema_field(AnnotationItemSerializer(many=True))
    def get_items(self, annotation: Annotation) -> list[dict]:
        """A multi-item task's products in their roles (a matching pair: left, then right); empty when the task
        has one product."""
        items = self.context["kind"].task_products(task=annotation.task)
        return AnnotationItemSerializer(items, many=True).data


def _choice(request: Request, name: str, values: list[str]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in values:
        raise ApplicationError(f"Unknown {name} {value!r}; choose one of {', '.join(values)}.", extra={name: values})
    return value


def _flagged(request: Request) -> bool | None:
    value = request.query_params.get("flagged") or None
    if value is None:
        return None
    if value.lower() not in FLAGGED:
        raise ApplicationError(
            f"Unknown flagged {value!r}; choose one of true, false.", extra={"flagged": list(FLAGGED)}
        )
    return FLAGGED[value.lower()]


def _label_id(request: Request, dataset: Dataset) -> int | None:
    value = request.query_params.get("label") or None
    if value is None:
        return None
    # ASCII digits only: int() takes "+1" or " 1", and str.isdigit() takes "²" which int() refuses.
    if value.isascii() and value.isdigit():
        # Unknown here is said as for a value that is no id at all: with the way to find the ids.
        with suppress(ApplicationError):
            return label_get(dataset=dataset, pk=int(value)).pk
    raise ApplicationError(
        f"Unknown label {value!r}; choose the id of a label of this dataset (see its labels list).",
        extra={"label": value},
    )


def _since(request: Request) -> datetime | None:
    value = request.query_params.get("since") or None
    if value is None:
        return None
    try:
        since = parse_datetime(value)
    except ValueError:
        since = None
    if since is None:
        # A "+" of an unencoded offset arrives as a space: say so, it is the usual cause.
        raise ApplicationError(
            f"Invalid since {value!r}; give an ISO 8601 datetime such as 2025-01-31T12:00:00Z "
            '(URL-encode a "+" offset as %2B).',
            extra={"since": value},
        )
    return since if timezone.is_aware(since) else timezone.make_aware(since)


class AnnotationListApi(APIView):
    # Read by drf-spectacular only, so the schema shows the page envelope and the page parameters `paginate` takes.
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("user", str, description="Only this annotator's answers (username)."),
            OpenApiParameter("label", int, description="Only answers with this label (a label id of the dataset)."),
            OpenApiParameter("status", str, enum=AnnotationStatus.values, description="Only answers in this status."),
            OpenApiParameter("source", str, enum=LabelSource.values, description="Only answers from this source."),
            OpenApiParameter("flagged", bool, description="Only flagged (true) or unflagged (false) answers."),
            OpenApiParameter(
                "product",
                str,
                description="Only answers for this product (its external_id), and for the pairs it is one of.",
            ),
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Only answers changed at or after this ISO 8601 time."
            ),
        ],
        responses=AnnotationListOutputSerializer(many=True),
        description="The dataset's answers, most recently changed first. A lead sees everyone's; "
        "an annotator sees only their own, and asking for another user's is a 403.",
    )
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id)
        username = request.query_params.get("user") or None
        user_id = None
        if dataset.user_role == Role.ANNOTATOR:
            if username is not None and username != request.user.get_username():
                raise exceptions.PermissionDenied("An annotator can list only their own annotations.")
            username, user_id = None, request.user.pk
        annotations = annotation_list(
            dataset=dataset,
            user_id=user_id,
            username=username,
            label_id=_label_id(request, dataset),
            status=_choice(request, "status", AnnotationStatus.values),
            source=_choice(request, "source", LabelSource.values),
            flagged=_flagged(request),
            external_id=request.query_params.get("product") or None,
            since=_since(request),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(annotations, request, view=self)
        task_items_prefetch(tasks=[annotation.task for annotation in page])
        context = {"kind": kind_get(dataset.task_type)}
        return paginator.get_paginated_response(AnnotationListOutputSerializer(page, many=True, context=context).data)
