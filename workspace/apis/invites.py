"""Invite links in the API: a lead makes one, lists the open ones, withdraws one (see workspace/services/invites.py)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from datasets.models import Role
from datasets.selectors import dataset_get
from workspace.selectors import invite_open_get, invite_open_list
from workspace.services.invites import invite_create, invite_withdraw


class InviteInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, default=Role.ANNOTATOR)


class InviteOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The invite, to withdraw it.")
    url = serializers.URLField()
    role = serializers.CharField()
    expires_at = serializers.DateTimeField()


class OpenInviteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    role = serializers.CharField()
    created_by = serializers.CharField(
        source="created_by.username", allow_null=True, help_text="The lead who made it; null if that account is gone."
    )
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()


class InviteListApi(APIView):
    @extend_schema(responses=OpenInviteSerializer(many=True))
    def get(self, request: Request, dataset_id: int) -> Response:
        """The open invite links: not used, not withdrawn, not expired (the link itself is shown only once)."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        return Response(OpenInviteSerializer(invite_open_list(dataset=dataset), many=True).data)

    @extend_schema(request=InviteInputSerializer, responses={201: InviteOutputSerializer})
    def post(self, request: Request, dataset_id: int) -> Response:
        """An invite link for one person: a newcomer creates an account with it, an existing account joins."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        serializer = InviteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link = invite_create(dataset=dataset, role=serializer.validated_data["role"], user=request.user)
        url = request.build_absolute_uri(reverse("workspace:invite", args=[link.token]))
        body = {"id": link.invite.pk, "url": url, "role": link.invite.role, "expires_at": link.expires_at}
        return Response(body, status=201)


class InviteDetailApi(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request: Request, dataset_id: int, invite_id: int) -> Response:
        """Withdraw an open invite link: whoever opens it then is told it was withdrawn (410 on the page)."""
        dataset = dataset_get(user=request.user, dataset_id=dataset_id, role=Role.LEAD)
        invite_withdraw(invite=invite_open_get(dataset=dataset, invite_id=invite_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
