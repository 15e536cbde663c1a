from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from datasets.apis.catalog import ProductSerializer
from datasets.selectors import dataset_get, label_get
from labeling.kinds import KINDS, kind_get
from labeling.models import Annotation, Task
from labeling.queue import task_lease_next
from labeling.selectors import task_get, task_suggestions
from labeling.services import annotation_skip, annotation_submit, annotation_undo


class SuggestionSerializer(serializers.Serializer):
    label = serializers.IntegerField(source="label.pk")
    path = serializers.CharField(source="label.path")
    probability = serializers.FloatField()


class TaskItemSerializer(serializers.Serializer):
    role = serializers.CharField(help_text="The product's role in the task: 'left' or 'right' for a matching pair.")
    product = ProductSerializer()


class TaskQuerySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(help_text="The query's id in its source (query_id).")
    text = serializers.CharField()
    locale = serializers.CharField()


class TaskOutputSerializer(serializers.ModelSerializer):
    # A string, not an enum: an enum named "kind" would rename the import kinds' enum in the schema.
    kind = serializers.CharField(
        source="dataset.task_type", read_only=True, help_text=f"The dataset's task kind: {', '.join(sorted(KINDS))}."
    )
    product = ProductSerializer(
        source="single_product", allow_null=True, help_text="The product to label; null for a multi-item task."
    )
    query = TaskQuerySerializer(
        allow_null=True, read_only=True, help_text="Search relevance: the query the product is judged for; else null."
    )
    items = serializers.SerializerMethodField()
    suggestions = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id", "dataset", "kind", "product", "query", "items", "annotation_count", "is_complete", "suggestions"
        ]

    @extend_schema_field(TaskItemSerializer(many=True))
    def get_items(self, task: Task) -> list[dict]:
        """A multi-item task's products in their roles (a matching pair: left, then right); empty when the
        task has one product."""
        items = kind_get(task.dataset.task_type).task_products(task=task)
        return TaskItemSerializer(items, many=True).data

    @extend_schema_field(SuggestionSerializer(many=True))
    def get_suggestions(self, task: Task) -> list[dict]:
        """The model's top labels, best first; empty when the dataset hides them for this task.
        Send suggestions_shown=true with the answer when you displayed them."""
        return SuggestionSerializer(task_suggestions(dataset=task.dataset, task=task), many=True).data


class AnnotationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Annotation
        fields = ["id", "task", "status", "label", "flagged", "active_seconds", "suggestions_shown", "updated_at"]


class SubmitInputSerializer(serializers.Serializer):
    label = serializers.IntegerField(
        required=False, allow_null=True, help_text="The chosen label's id. Give `label` or `answer`, not both."
    )
    answer = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=100,
        help_text="The answer as a value of the task kind, instead of a label id. Matching: 'match' (or '1'), "
        "'no match' (or '0'), or 'unsure' (flagged without a label, for a reviewer to decide). Relevance: a grade "
        "of the dataset's scale by code, name or value ('E', 'exact' or '3' on ESCI).",
    )
    flagged = serializers.BooleanField(default=False, help_text="Bad data or unsure: the task goes to review.")
    active_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)
    suggestions_shown = serializers.BooleanField(default=False)


class SkipInputSerializer(serializers.Serializer):
    active_seconds = serializers.FloatField(required=False, allow_null=True, min_value=0)


class TaskNextApi(APIView):
    @extend_schema(request=None, responses={200: TaskOutputSerializer, 204: None})
    def post(self, request: Request, dataset_id: int) -> Response:
        """Lease the next task (or the one already held). 204 when the queue has nothing left for you."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id)
        task = task_lease_next(dataset=dataset, user=request.user)
        if task is None:
            return Response(status=204)
        return Response(TaskOutputSerializer(task).data)


class TaskSubmitApi(APIView):
    @extend_schema(request=SubmitInputSerializer, responses={201: AnnotationOutputSerializer})
    def post(self, request: Request, task_id: int) -> Response:
        """Answer a task with a label id or a value of its kind ("match", "unsure"...), and optionally a flag."""
        task = task_get(user=request.user, task_id=task_id)
        serializer = SubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        dataset = task.dataset
        if data.get("label") is not None and data.get("answer") is not None:
            raise ApplicationError("Give either label or answer, not both.", extra={"fields": ["label", "answer"]})
        label = label_get(dataset=dataset, pk=data["label"]) if data.get("label") is not None else None
        answer = kind_get(dataset.task_type).answer_clean(
            dataset=dataset, label=label, value=data.get("answer"), flagged=data["flagged"]
        )
        annotation = annotation_submit(
            task=task,
            user=request.user,
            label=answer.label,
            flagged=answer.flagged,
            active_seconds=data.get("active_seconds"),
            suggestions_shown=data["suggestions_shown"],
        )
        return Response(AnnotationOutputSerializer(annotation).data, status=201)


class TaskSkipApi(APIView):
    @extend_schema(request=SkipInputSerializer, responses={201: AnnotationOutputSerializer})
    def post(self, request: Request, task_id: int) -> Response:
        task = task_get(user=request.user, task_id=task_id)
        serializer = SkipInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        annotation = annotation_skip(
            task=task, user=request.user, active_seconds=serializer.validated_data.get("active_seconds")
        )
        return Response(AnnotationOutputSerializer(annotation).data, status=201)


class TaskUndoApi(APIView):
    @extend_schema(request=None, responses=TaskOutputSerializer)
    def post(self, request: Request, dataset_id: int) -> Response:
        """Reopen your most recent answer in this dataset; the task is leased back to you."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id)
        task = annotation_undo(dataset=dataset, user=request.user)
        return Response(TaskOutputSerializer(task_get(user=request.user, task_id=task.pk)).data)
