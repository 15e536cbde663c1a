"""A relevance dataset's ranking figures through the API, for its leads: what the Queries page shows."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.models import Role, TaskType
from datasets.selectors import dataset_get
from labeling.kinds.relevance.report import K_MAX, ORDERS, cutoff_parse, ranking_report
from labeling.resolve import LabelPolicy

# The report is computed on request; these serializers document its shape in the schema.


class RankerFiguresSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="bm25, or an imported ranker's name.")
    ndcg = serializers.FloatField(allow_null=True, help_text="Mean nDCG@k over the judged queries, by query weight.")
    mrr = serializers.FloatField(allow_null=True, help_text="Mean reciprocal rank of the first relevant result.")
    precision = serializers.FloatField(allow_null=True, help_text="Mean precision@k.")
    unjudged = serializers.FloatField(allow_null=True, help_text="Mean share of the top k nobody judged.")
    queries = serializers.IntegerField(help_text="Queries in the means: those with a relevant judgment.")


class QueryFiguresSerializer(serializers.Serializer):
    ndcg = serializers.FloatField(allow_null=True, help_text="null: no judged product of the query is relevant.")
    reciprocal_rank = serializers.FloatField()
    precision = serializers.FloatField()
    unjudged = serializers.FloatField()
    judged = serializers.IntegerField()


class QueryNamedSerializer(serializers.Serializer):
    query_id = serializers.CharField(help_text="The query's external id.")
    query = serializers.CharField()
    weight = serializers.FloatField()


class QueryRowSerializer(QueryNamedSerializer):
    judged = serializers.IntegerField(help_text="The query's judged products.")
    ndcg_spread = serializers.FloatField(allow_null=True, help_text="Best minus worst ranker's nDCG@k.")
    rankers = serializers.DictField(child=QueryFiguresSerializer(), help_text="Ranker name -> its figures.")


class DisagreementSerializer(QueryNamedSerializer):
    ndcg_spread = serializers.FloatField()


class RankingReportSerializer(serializers.Serializer):
    k = serializers.IntegerField()
    policy = serializers.CharField()
    queries = serializers.IntegerField(help_text="The dataset's queries.")
    judged_queries = serializers.IntegerField(help_text="Queries with at least one resolved judgment.")
    judgments = serializers.IntegerField(help_text="Resolved (query, product) judgments.")
    rankers = RankerFiguresSerializer(many=True)
    disagreements = DisagreementSerializer(many=True, help_text="The queries whose nDCG differs most, first 20.")
    per_query = QueryRowSerializer(many=True, help_text="Every judged query, in the order asked.")


class RankingReportApi(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("k", int, description=f"The cutoff of nDCG and precision, 1 to {K_MAX} (10)."),
            OpenApiParameter("policy", str, enum=[LabelPolicy.MAJORITY, LabelPolicy.FINAL],
                             description="Which judgments count (majority)."),
            OpenApiParameter("order", str, description=f"per_query's order: {', '.join(ORDERS)} or a ranker's "
                             "name (its worst nDCG first); spread by default."),
        ],
        responses=RankingReportSerializer,
        description="Each ranker's nDCG@k, MRR and precision@k against the resolved judgments of a relevance "
        "dataset, with the share of unjudged results in each top k, overall and per query, and the queries where "
        "the rankers disagree most. Leads only.",
    )
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        if dataset.task_type != TaskType.RELEVANCE:
            raise exceptions.NotFound("Ranking figures are for search relevance datasets.")
        report = ranking_report(
            dataset=dataset,
            k=cutoff_parse(request.query_params.get("k")),
            policy=request.query_params.get("policy", LabelPolicy.MAJORITY),
            order=request.query_params.get("order", "spread"),
        )
        return Response(RankingReportSerializer(report).data)
