"""The review queue and decisions for a lead's scripts: the same selectors and service as the review page."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from config.pagination import Pagination
from datasets.models import Label, Role
from datasets.selectors import dataset_get, label_get
from labeling.apis.annotations import AnnotationItemSerializer, AnnotationProductSerializer
from labeling.kinds import kind_get
from labeling.models import Review, Task
from labeling.review import review_decide
from labeling.selectors import review_queue_counted, review_votes, task_get, task_items_prefetch


class ReviewVoteSerializer(serializers.Serializer):
    label = serializers.IntegerField(help_text="A label id of the dataset.")
    path = serializers.CharField()
    votes = serializers.IntegerField(help_text="Submitted answers with this label.")


class ReviewQueueItemSerializer(serializers.ModelSerializer):
    task = serializers.IntegerField(source="pk")
    title = serializers.SerializerMethodField()
    product = AnnotationProductSerializer(
        source="single_product", allow_null=True, help_text="The task's product; null for a multi-item task."
    )
    items = serializers.SerializerMethodField()
    answers = serializers.IntegerField(source="answer_count", help_text="Submitted answers, imports included.")
    flagged = serializers.IntegerField(source="flagged_count", help_text="Submitted answers carrying a flag.")
    votes = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = ["task", "title", "product", "items", "answers", "flagged", "votes"]

    def get_title(self, task: Task) -> str:
        """The product's title, or a pair's titles: "left title ↔ right title"."""
        return self.context["kind"].task_title(task=task)

    @extend_schema_field(AnnotationItemSerializer(many=True))
    def get_items(self, task: Task) -> list[dict]:
        """A multi-item task's products in their roles (a matching pair: left, then right); empty when the task
        has one product."""
        return AnnotationItemSerializer(self.context["kind"].task_products(task=task), many=True).data

    @extend_schema_field(ReviewVoteSerializer(many=True))
    def get_votes(self, task: Task) -> list[dict]:
        """The labels answered, most voted first."""
        return ReviewVoteSerializer(self.context["votes"].get(task.pk, []), many=True).data


class ReviewQueueApi(APIView):
    pagination_class = Pagination

    @extend_schema(
        responses=ReviewQueueItemSerializer(many=True),
        description="Tasks whose answers disagree or carry a flag and that no reviewer decided yet, oldest first. "
        "Leads only.",
    )
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        paginator = Pagination()
        page = paginator.paginate_queryset(review_queue_counted(dataset=dataset), request, view=self)
        task_items_prefetch(tasks=page)
        context = {"votes": review_votes(task_ids=[task.pk for task in page]), "kind": kind_get(dataset.task_type)}
        return paginator.get_paginated_response(ReviewQueueItemSerializer(page, many=True, context=context).data)


class ReviewInputSerializer(serializers.Serializer):
    label = serializers.IntegerField(
        required=False, help_text="The final label: a label id of the task's dataset (not for attribute spans)."
    )
    spans = serializers.JSONField(
        required=False,
        help_text="Attribute spans only, instead of a label: the final spans, [[token_start, token_end (inclusive), "
        "type], ...] with a type's label id or code, as an answer gives them; [] when the title has no attribute.",
    )
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=500)
    gold = serializers.BooleanField(default=False, help_text="Also make the task a gold item with this label.")


class ReviewLabelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Label
        fields = ["id", "path"]


class ReviewOutputSerializer(serializers.ModelSerializer):
    label = ReviewLabelSerializer(allow_null=True, help_text="The final label; null for attribute spans.")
    spans = serializers.SerializerMethodField()
    reviewer = serializers.CharField(source="reviewer.get_username", allow_null=True)
    gold = serializers.BooleanField(source="task.is_gold")

    class Meta:
        model = Review
        fields = ["task", "label", "spans", "reviewer", "note", "gold", "created_at", "updated_at"]

    @extend_schema_field(
        serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()), allow_null=True)
    )
    def get_spans(self, review: Review) -> list | None:
        """Attribute spans: the final spans, [[token_start, token_end (inclusive), label id], ...] sorted; null
        for a label."""
        return review.value.value if review.value_id else None


class TaskReviewApi(APIView):
    @extend_schema(
        request=ReviewInputSerializer,
        responses=ReviewOutputSerializer,
        description="Decide the task's final label, or for attribute spans its final spans (again, if it was decided "
        "before); it leaves the review queue and becomes the answer of exports and training. Leads only.",
    )
    def post(self, request: Request, task_id: int) -> Response:
        task = task_get(user=request.user, task_id=task_id)
        dataset = dataset_get(user=request.user, dataset_id=task.dataset_id, role=Role.LEAD)
        serializer = ReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        kind = kind_get(dataset.task_type)
        label, value = None, None
        if kind.answers_with_values:
            if "label" in data or data.get("spans") is None:
                raise ApplicationError(
                    "A span decision is `spans`, a list of [token_start, token_end, type] (an empty list when the "
                    "title has no attribute), not a label.",
                    extra={"label": data.get("label")},
                )
            value = kind.value_clean(dataset=dataset, task=task, raw=data["spans"], flagged=False).value
        elif "spans" in data:
            kind.value_clean(dataset=dataset, task=task, raw=data["spans"], flagged=False)  # refuses: labels only
        elif "label" not in data:
            raise serializers.ValidationError({"label": ["This field is required."]})
        else:
            label = label_get(dataset=dataset, pk=data["label"])
        review = review_decide(
            task=task, reviewer=request.user, label=label, value=value, note=data["note"], gold=data["gold"]
        )
        return Response(ReviewOutputSerializer(review).data)
