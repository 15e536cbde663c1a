"""The judge's list mode in the API: lease a query with its open tasks, answer them all at once."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.errors import ApplicationError
from datasets.models import Dataset
from datasets.selectors import dataset_get
from labeling.answers import task_answers_clean
from labeling.apis.tasks import AnnotationOutputSerializer, SubmitInputSerializer, TaskOutputSerializer
from labeling.kinds import kind_get
from labeling.queue import query_lease_next
from labeling.selectors import dataset_tasks_get
from labeling.services import annotations_submit


class QueryOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    text = serializers.CharField()
    locale = serializers.CharField()


class QueryTasksOutputSerializer(serializers.Serializer):
    query = QueryOutputSerializer()
    tasks = TaskOutputSerializer(many=True, help_text="The query's tasks leased to you, one per product.")


class ListAnswerSerializer(SubmitInputSerializer):
    task = serializers.IntegerField(help_text="A task of the dataset, usually one `queries/next` leased to you.")
    # Given once for the whole list (SubmitManyInputSerializer); a list shows no suggestions.
    active_seconds = None
    suggestions_shown = None


class SubmitManyInputSerializer(serializers.Serializer):
    answers = ListAnswerSerializer(many=True, allow_empty=False, max_length=100)
    active_seconds = serializers.FloatField(
        required=False, allow_null=True, min_value=0, help_text="The time spent on them all, shared out equally."
    )


def _list_dataset(request: Request, dataset_id: int) -> Dataset:
    dataset = dataset_get(user=request.user, dataset_id=dataset_id)
    if not kind_get(dataset.task_type).list_mode:
        raise ApplicationError("Only a search relevance dataset has queries to judge in a list.")
    return dataset


class QueryNextApi(APIView):
    @extend_schema(request=None, responses={200: QueryTasksOutputSerializer, 204: None})
    def post(self, request: Request, dataset_id: int) -> Response:
        """Lease the open tasks of one query (the one you hold, else the queue's next): its products to grade.
        204 when no query is left for you."""
        dataset = _list_dataset(request, dataset_id)
        tasks = query_lease_next(dataset=dataset, user=request.user)
        if not tasks:
            return Response(status=204)
        return Response(QueryTasksOutputSerializer({"query": tasks[0].query, "tasks": tasks}).data)


class QuerySubmitApi(APIView):
    @extend_schema(request=SubmitManyInputSerializer, responses={201: AnnotationOutputSerializer(many=True)})
    def post(self, request: Request, dataset_id: int) -> Response:
        """Answer many tasks at once (a query's products): all are recorded, or none when one is refused."""
        dataset = _list_dataset(request, dataset_id)
        serializer = SubmitManyInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if any(item.get("label") is not None and item.get("answer") is not None for item in data["answers"]):
            raise ApplicationError("Give either label or answer, not both.", extra={"fields": ["label", "answer"]})
        tasks = dataset_tasks_get(dataset=dataset, task_ids=[item["task"] for item in data["answers"]])
        if len(tasks) != len(data["answers"]):
            raise ApplicationError("A task is answered twice in one submission.")
        answers = task_answers_clean(
            dataset=dataset,
            rows=[
                (task, item.get("label"), item.get("answer"), item["flagged"])
                for task, item in zip(tasks, data["answers"], strict=True)
            ],
        )
        annotations = annotations_submit(
            dataset=dataset, user=request.user, answers=answers, active_seconds=data.get("active_seconds")
        )
        return Response(AnnotationOutputSerializer(annotations, many=True).data, status=201)
