from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from config.serializer_fields import ModelFieldsOnce, SharedOutputFields
from datasets.apis.catalog import ProductSerializer
from datasets.selectors import dataset_get
from labeling.answers import task_answer_clean
from labeling.kinds import KINDS, kind_get
from labeling.kinds.spans import page
from labeling.models import Annotation, Task
from labeling.queue import task_lease_next
from labeling.selectors import task_get, task_suggestions
from labeling.services import annotation_skip, annotation_submit, annotation_undo


class SuggestionSerializer(SharedOutputFields, serializers.Serializer):
    label = serializers.IntegerField(source="label.pk")
    path = serializers.CharField(source="label.path")
    probability = serializers.FloatField()


class TokenSerializer(SharedOutputFields, serializers.Serializer):
    i = serializers.IntegerField(help_text="The token's number: spans name tokens by it.")
    text = serializers.CharField(trim_whitespace=False)
    ws = serializers.BooleanField(help_text="A space follows the token.")


class SpanSuggestionSerializer(SharedOutputFields, serializers.Serializer):
    start = serializers.IntegerField(help_text="The first token.")
    end = serializers.IntegerField(help_text="The last token (inclusive).")
    label_id = serializers.IntegerField()
    probability = serializers.FloatField(allow_null=True, help_text="The model's; null for a value found.")


class TaskItemSerializer(SharedOutputFields, serializers.Serializer):
    role = serializers.CharField(help_text="The product's role in the task: 'left' or 'right' for a matching pair.")
    product = ProductSerializer()


class TaskQuerySerializer(SharedOutputFields, serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField(help_text="The query's id in its source (query_id).")
    text = serializers.CharField()
    locale = serializers.CharField()


class TaskOutputSerializer(SharedOutputFields, ModelFieldsOnce, serializers.ModelSerializer):
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
    tokens = serializers.SerializerMethodField()
    span_suggestions = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id", "dataset", "kind", "product", "query", "items", "annotation_count", "is_complete", "suggestions",
            "tokens", "span_suggestions",
        ]

    def _spans(self, task: Task) -> dict:
        # Both span fields read one tokenization of the title (a list serializes many tasks: keyed by task).
        cache = self.__dict__.setdefault("_span_parts", {})
        if task.pk not in cache:
            if kind_get(task.dataset.task_type).answers_with_values:
                suggested = page.suggested_spans(dataset=task.dataset, task=task)
                cache[task.pk] = {**page.item_context(task=task), "suggested_spans": suggested}
            else:
                cache[task.pk] = {"tokens": [], "suggested_spans": []}
        return cache[task.pk]

    @extend_schema_field(TokenSerializer(many=True))
    def get_tokens(self, task: Task) -> list[dict]:
        """Attribute spans: the tokens of the title as the page shows them (a span's token_start and token_end
        are their `i`); empty for other kinds."""
        # Already {i, text, ws} of the right types (`page.item_context`): the serializer's field calls took 86 us
        # for a title of 15 tokens, for nothing.
        return self._spans(task)["tokens"]

    @extend_schema_field(SpanSuggestionSerializer(many=True))
    def get_span_suggestions(self, task: Task) -> list[dict]:
        """Attribute spans: the suggested spans (the product's own values found in its title, or the model's),
        token_end inclusive; empty for other kinds or when hidden."""
        return SpanSuggestionSerializer(self._spans(task)["suggested_spans"], many=True).data

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


class AnnotationOutputSerializer(SharedOutputFields, ModelFieldsOnce, serializers.ModelSerializer):
    spans = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = [
            "id", "task", "status", "label", "spans", "flagged", "active_seconds", "suggestions_shown", "updated_at"
        ]

    @extend_schema_field(
        serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()), allow_null=True)
    )
    def get_spans(self, annotation: Annotation) -> list | None:
        """Attribute spans: the answer's spans as [token_start, token_end, label id], sorted; null for a label."""
        return annotation.value.value if annotation.value_id is not None else None


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
    spans = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="Attribute spans: the title's spans as [token_start, token_end (inclusive), type] or "
        "{token_start, token_end, label}, the type a label id or code ('BRAND'); [] when the title has none. "
        "Tokens are the `tokens` of the task.",
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
        if data.get("label") is not None and data.get("answer") is not None:
            raise ApplicationError("Give either label or answer, not both.", extra={"fields": ["label", "answer"]})
        if data.get("spans") is not None and (data.get("label") is not None or data.get("answer") is not None):
            raise ApplicationError("Give spans, or a label or answer: not both.", extra={"fields": ["spans"]})
        answer = task_answer_clean(
            task=task, label_id=data.get("label"), value=data.get("answer"), spans=data.get("spans"),
            flagged=data["flagged"],
        )
        annotation = annotation_submit(
            task=task,
            user=request.user,
            label=answer.label,
            value=answer.value,
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
