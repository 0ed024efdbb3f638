"""REST API of the notification centre (notifications live in core; the API needs accounts'
bearer tokens, so it is served from here): the caller's own notifications, marking one read."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from hms.accounts.api_auth import HasRolePermission
from hms.core.errors import NotFound
from hms.core.models import Notification
from hms.core.notifications import notification_mark_read, notifications_of

MAX_ID = 2**63 - 1


class NotificationOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    body = serializers.CharField()
    url = serializers.CharField()
    read = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_read(self, notice) -> bool:
        return notice.read_at is not None


class NotificationViewSet(viewsets.ViewSet):
    """The caller's notifications, newest first (`?unread=1` for the unread ones only)."""

    queryset = Notification.objects.none()
    pagination_class = PageNumberPagination
    permission_classes = [HasRolePermission]
    required_perms = {"list": "signed_in", "read": "signed_in"}

    @extend_schema(responses=NotificationOut(many=True))
    def list(self, request):
        notices = notifications_of(
            request.user, unread_only=request.query_params.get("unread") == "1"
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(notices, request, view=self)
        return paginator.get_paginated_response(NotificationOut(page, many=True).data)

    @extend_schema(request=None, responses=NotificationOut)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        if not str(pk).isdigit() or not 0 < int(pk) <= MAX_ID:
            raise NotFound("No such notification.")
        notice = notifications_of(request.user).filter(pk=pk).first()
        if notice is None:
            raise NotFound("No such notification.")
        notification_mark_read(user=request.user, notification_id=notice.pk)
        notice.refresh_from_db()
        return Response(NotificationOut(notice).data)
