"""The taxonomy of a categorization dataset, with counts per node, and a lead's changes to it (issue 15)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.models import Role, TaxonomyAction, TaxonomyChange
from datasets.selectors import dataset_get, label_get
from labeling.taxonomy_changes import taxonomy_change_apply, taxonomy_editable_check
from labeling.taxonomy_selectors import taxonomy_change_list, taxonomy_tree

_ID = {"min_value": 1, "max_value": 2**63 - 1}


class TaxonomyNodeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="label.pk")
    name = serializers.CharField(source="label.name")
    path = serializers.CharField(source="label.path")
    code = serializers.CharField(source="label.code")
    depth = serializers.IntegerField(source="label.depth")
    parent = serializers.IntegerField(source="label.parent_id", allow_null=True)
    deprecated = serializers.BooleanField(source="label.deprecated")
    merged_into = serializers.IntegerField(source="label.merged_into_id", allow_null=True)
    leaf = serializers.BooleanField()
    answers = serializers.IntegerField(source="own.answers", help_text="Submitted answers with this label.")
    gold = serializers.IntegerField(source="own.gold", help_text="Gold items with this label.")
    suggestions = serializers.IntegerField(source="own.suggestions", help_text="Open tasks the model suggests it for.")
    subtree_answers = serializers.IntegerField(source="total.answers", help_text="Answers of the node and below.")


class TaxonomyChangeSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", allow_null=True, default=None)

    class Meta:
        model = TaxonomyChange
        fields = ["id", "action", "label", "target", "old_path", "new_path", "counts", "user", "created_at"]


class TaxonomyChangeInputSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=TaxonomyAction.choices)
    label = serializers.IntegerField(**_ID, help_text="The label changed (a merge's source, an added child's parent).")
    name = serializers.CharField(
        required=False, default="", max_length=255, help_text="rename: the new name; add_child: the child's name."
    )
    parent = serializers.IntegerField(
        required=False, allow_null=True, default=None, **_ID, help_text="move: the new parent, null for the top."
    )
    target = serializers.IntegerField(required=False, **_ID, help_text="merge: the label that takes the answers.")
    code = serializers.CharField(required=False, default="", allow_blank=True, max_length=255)


class TaxonomyApi(APIView):
    @extend_schema(responses=TaxonomyNodeSerializer(many=True), description="Every node in path order, with counts.")
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return Response(TaxonomyNodeSerializer(taxonomy_tree(dataset=dataset), many=True).data)


class TaxonomyChangesApi(APIView):
    @extend_schema(responses=TaxonomyChangeSerializer(many=True), description="The latest 50 changes, newest first.")
    def get(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return Response(TaxonomyChangeSerializer(taxonomy_change_list(dataset=dataset), many=True).data)

    @extend_schema(
        request=TaxonomyChangeInputSerializer,
        responses={201: TaxonomyChangeSerializer},
        description="Rename, move, merge (A into B: its answers, reviews, gold and suggestions go to B, A stays "
        "deprecated), deprecate, or add a child (a leaf's answered tasks go to review). Categorization only.",
    )
    def post(self, request: Request, dataset_id: int) -> Response:
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        taxonomy_editable_check(dataset=dataset)
        serializer = TaxonomyChangeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        change = taxonomy_change_apply(
            dataset=dataset,
            user=request.user,
            action=data["action"],
            label=label_get(dataset=dataset, pk=data["label"]),
            name=data["name"],
            parent=label_get(dataset=dataset, pk=data["parent"]) if data["parent"] else None,
            target=label_get(dataset=dataset, pk=data["target"]) if data.get("target") else None,
            code=data["code"],
        )
        return Response(TaxonomyChangeSerializer(change).data, status=status.HTTP_201_CREATED)
