from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.jobs.apis import JobActionApi
from config.pagination import Pagination, paginate
from config.schema import error_responses
from datasets.models import Role
from datasets.selectors import dataset_get
from labeling.kinds.matching.blocking import FIELDS, KEYS
from workspace.models import CandidateRun
from workspace.selectors import candidate_run_get, candidate_run_list
from workspace.services.candidates import candidate_run_create, candidate_run_retry


class CandidateRunOutputSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True, help_text="Overall, 0 to 1.")
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    report = serializers.JSONField(
        read_only=True,
        help_text="Once succeeded. Matching: products, sources, candidates, new_pairs, existing_pairs, by_key_only, "
        "possible_pairs, reduction_ratio, known_matches, pair_completeness (null without known matches), "
        "timings (read_s, block_s, write_s), peak_memory_mb. Relevance: queries, products, results (ranker -> "
        "results kept), pooled, created (new tasks), timings (read_s, rank_s, write_s). Both: rescore when a "
        "model was asked to rescore.",
    )

    class Meta:
        model = CandidateRun
        fields = [
            "id",
            "dataset",
            "params",
            "status",
            "phase",
            "fraction",
            "progress",
            "report",
            "message",
            "worker",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]


class CandidateRunInputSerializer(serializers.Serializer):
    """Types here; the kind's settings check the values and name a bad one (400, `extra.fields`). A matching
    dataset takes the blocking settings, a relevance dataset depth and pool."""

    depth = serializers.IntegerField(
        required=False, help_text="Relevance: results kept per query and ranker, 1 to 1000 (100)."
    )
    pool = serializers.IntegerField(
        required=False, help_text="Relevance: each ranker's top results judged per query, at most depth (10)."
    )
    run_file = serializers.FileField(
        required=False,
        help_text="Relevance, multipart only: another ranker's results to pool with BM25's, a TREC run (qid Q0 "
        "docid rank score tag) or a CSV (query_id, product_id, rank, optionally ranker), by the dataset's ids.",
    )
    ranker = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Relevance: the run file's ranker name."
    )

    k = serializers.IntegerField(required=False, help_text="Neighbours per product, 1 to 100 (10).")
    fields = serializers.ListField(
        child=serializers.ChoiceField(choices=FIELDS), required=False, help_text="Compared fields (title, brand)."
    )
    min_similarity = serializers.FloatField(required=False, help_text="Cosine from 0 to below 1 (0.3).")
    keys = serializers.ListField(
        child=serializers.ChoiceField(choices=KEYS), required=False, help_text="Exact keys (all three); [] for none."
    )
    source_field = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text='The product column or attribute naming each product\'s source ("source").',
    )
    skip_same_source = serializers.BooleanField(
        required=False, help_text="Never pair two products of one source (false)."
    )


class CandidateRunListApi(APIView):
    pagination_class = Pagination  # for the schema: `paginate` returns this page envelope
    parser_classes = [JSONParser, MultiPartParser, FormParser]  # multipart carries a relevance run file

    @extend_schema(responses=CandidateRunOutputSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return paginate(request, self, candidate_run_list(dataset=dataset), CandidateRunOutputSerializer)

    @extend_schema(
        request=CandidateRunInputSerializer,
        responses={
            202: CandidateRunOutputSerializer,
            **error_responses(409, 503, s409="A candidate run of this dataset is already waiting or running."),
        },
        description="Queue candidate generation: blocking for a matching dataset, BM25 top results and pooling for "
        "a relevance dataset; the worker writes the new pairs as tasks. Poll the run until its status is "
        "succeeded; its report says what it found.",
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = CandidateRunInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # Only what was sent: a form body gives every absent boolean as false.
        params = {name: value for name, value in serializer.validated_data.items() if name in request.data}
        uploads = {"run_file": params.pop("run_file", None), "ranker": params.pop("ranker", "")}
        run = candidate_run_create(dataset=dataset, user=request.user, params=params, **uploads)
        return Response(CandidateRunOutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class CandidateRunDetailApi(APIView):
    @extend_schema(responses=CandidateRunOutputSerializer)
    def get(self, request: Request, run_id: int) -> Response:
        return Response(CandidateRunOutputSerializer(candidate_run_get(user=request.user, run_id=run_id)).data)


@extend_schema(request=None, responses={202: CandidateRunOutputSerializer, **error_responses(409, 503)})
class CandidateRunActionApi(JobActionApi):
    """Cancel a waiting or running run (the pairs it wrote stay), or run a failed or cancelled run's settings
    again: a new run, since a run's report is never rewritten."""

    serializer_class = CandidateRunOutputSerializer

    def get_job(self, request: Request, run_id: int) -> CandidateRun:
        return candidate_run_get(user=request.user, run_id=run_id)

    def retry(self, job: CandidateRun, user: object) -> CandidateRun:
        return candidate_run_retry(run=job, user=user)
