"""REST API of workflows: the event catalogue, rules (with dry runs), run history, staff tasks.
Rules and runs are for administrators (WORKFLOW_MANAGE); tasks for every staff member (their
own and their role's)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from hms.accounts.api_auth import HasRolePermission
from hms.accounts.models import User
from hms.core.errors import NotFound
from hms.core.events import CATALOGUE
from hms.core.permissions import Perm, Role
from hms.workflows import services
from hms.workflows.models import Match, Rule, RuleRun, TaskStatus

MAX_ID = 2**63 - 1


def _id(value, what: str) -> int:
    if not str(value).isdigit() or not 0 < int(value) <= MAX_ID:
        raise NotFound(f"No such {what}.")
    return int(value)


class EventOut(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.IntegerField()
    description = serializers.CharField()
    aggregate = serializers.CharField()
    fields = serializers.DictField(child=serializers.CharField())


class EventCatalogueView(APIView):
    """Every event rules can react to, with its payload fields and their types."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.WORKFLOW_MANAGE

    @extend_schema(responses=EventOut(many=True))
    def get(self, request):
        events = sorted(CATALOGUE.values(), key=lambda kind: kind.name)
        return Response(EventOut(events, many=True).data)


class ConditionIn(serializers.Serializer):
    field = serializers.CharField(max_length=100)
    op = serializers.ChoiceField(choices=["eq", "ne", "contains", "gt", "lt", "in"])
    value = serializers.JSONField()


class RuleIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    event = serializers.CharField(max_length=100)
    match = serializers.ChoiceField(choices=Match.choices, default=Match.ALL)
    conditions = ConditionIn(many=True, required=False, default=list)
    actions = serializers.ListField(
        child=serializers.DictField(), min_length=1, max_length=services.MAX_ACTIONS,
        help_text='e.g. {"type": "notify_role", "role": "nurse", "title": "..."}',
    )  # fmt: skip
    enabled = serializers.BooleanField(default=True)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class RuleOut(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    event = serializers.CharField()
    match = serializers.CharField()
    conditions = serializers.JSONField()
    actions = serializers.SerializerMethodField()
    enabled = serializers.BooleanField()
    version = serializers.IntegerField()
    builtin = serializers.CharField()

    def get_actions(self, rule) -> list[dict]:
        """Webhook secrets are never sent back."""
        return [{**a, **({"secret": "***"} if a.get("secret") else {})} for a in rule.actions]


class DryRunIn(serializers.Serializer):
    payload = serializers.DictField(required=False, default=dict)


class RuleViewSet(viewsets.ViewSet):
    """Rules: WHEN `event` IF `conditions` (`match` all/any) THEN `actions`."""

    queryset = Rule.objects.none()
    permission_classes = [HasRolePermission]
    required_perms = {
        "list": Perm.WORKFLOW_MANAGE,
        "create": Perm.WORKFLOW_MANAGE,
        "retrieve": Perm.WORKFLOW_MANAGE,
        "partial_update": Perm.WORKFLOW_MANAGE,
        "dry_run": Perm.WORKFLOW_MANAGE,
    }

    def _get(self, pk) -> Rule:
        rule = Rule.objects.filter(pk=_id(pk, "rule")).first()
        if rule is None:
            raise NotFound("No such rule.")
        return rule

    @extend_schema(responses=RuleOut(many=True))
    def list(self, request):
        return Response(RuleOut(Rule.objects.order_by("name"), many=True).data)

    @extend_schema(request=RuleIn, responses={201: RuleOut})
    def create(self, request):
        body = RuleIn(data=request.data)
        body.is_valid(raise_exception=True)
        rule = services.rule_create(actor=request.user, **body.validated_data)
        return Response(RuleOut(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=RuleOut)
    def retrieve(self, request, pk=None):
        return Response(RuleOut(self._get(pk)).data)

    @extend_schema(request=RuleIn(partial=True), responses=RuleOut)
    def partial_update(self, request, pk=None):
        rule = self._get(pk)
        body = RuleIn(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = {k: v for k, v in body.validated_data.items() if k in request.data}
        rule = services.rule_update(actor=request.user, rule=rule, **changes)
        return Response(RuleOut(rule).data)

    @extend_schema(request=DryRunIn, responses=OpenApiTypes.OBJECT)
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """What the rule would do on a sample event (`payload` overrides a made-up one)."""
        rule = self._get(pk)
        body = DryRunIn(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            services.rule_dry_run(
                actor=request.user, rule=rule, payload=body.validated_data["payload"]
            )
        )


class ActionRunOut(serializers.Serializer):
    position = serializers.IntegerField()
    kind = serializers.CharField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField()
    attempts = serializers.IntegerField()
    result = serializers.CharField()
    error = serializers.CharField()
    finished_at = serializers.DateTimeField(allow_null=True)


class RunOut(serializers.Serializer):
    id = serializers.CharField()
    rule = serializers.CharField(source="rule_id")
    rule_version = serializers.IntegerField()
    event = serializers.CharField(source="event_name")
    event_id = serializers.CharField()
    status = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    actions = ActionRunOut(many=True)


class RunListView(APIView):
    """Each firing of a rule and each of its actions (`?rule=` one rule's, `?status=failed`)."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.WORKFLOW_MANAGE
    pagination_class = PageNumberPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("rule", OpenApiTypes.STR),
            OpenApiParameter("status", OpenApiTypes.STR),
        ],
        responses=RunOut(many=True),
    )
    def get(self, request):
        runs = RuleRun.objects.prefetch_related("actions")
        if request.query_params.get("rule"):
            runs = runs.filter(rule_id=_id(request.query_params["rule"], "rule"))
        if request.query_params.get("status"):
            runs = runs.filter(status=request.query_params["status"][:10])
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        return paginator.get_paginated_response(RunOut(page, many=True).data)


class TaskIn(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    details = serializers.CharField(required=False, allow_blank=True, default="")
    assignee = serializers.CharField(required=False, help_text="a staff user's id or email")
    role = serializers.ChoiceField(choices=Role.choices, required=False, default="")
    due_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    patient_id = serializers.CharField(required=False, default="", max_length=64)
    appointment_id = serializers.CharField(required=False, default="", max_length=64)
    invoice_id = serializers.CharField(required=False, default="", max_length=64)
    item_id = serializers.CharField(required=False, default="", max_length=64)


class TaskOut(serializers.Serializer):
    id = serializers.CharField()
    title = serializers.CharField()
    details = serializers.CharField()
    assignee = serializers.CharField(source="assignee_id", allow_null=True)
    role = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    status = serializers.CharField()
    overdue = serializers.BooleanField()
    patient_id = serializers.CharField()
    appointment_id = serializers.CharField()
    invoice_id = serializers.CharField()
    item_id = serializers.CharField()
    created_at = serializers.DateTimeField()


class TaskListView(APIView):
    """The caller's tasks and their role's (`?status=open|done|cancelled`); POST hands one out."""

    permission_classes = [HasRolePermission]
    required_perm = Perm.STAFF_AREA

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR)], responses=TaskOut(many=True)
    )
    def get(self, request):
        tasks = services.tasks_visible_to(request.user)
        wanted = request.query_params.get("status", "")
        if wanted in TaskStatus.values:
            tasks = tasks.filter(status=wanted)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(tasks, request, view=self)
        return paginator.get_paginated_response(TaskOut(page, many=True).data)

    @extend_schema(request=TaskIn, responses={201: TaskOut})
    def post(self, request):
        body = TaskIn(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        ref = str(data.pop("assignee", "") or "")
        assignee = None
        if ref:
            lookup = {"pk": int(ref)} if ref.isdigit() and len(ref) < 18 else {"email__iexact": ref}
            assignee = User.objects.filter(**lookup).first()
            if assignee is None:
                raise NotFound("No such user.", fields={"assignee": "Unknown user."})
        task = services.task_create(actor=request.user, assignee=assignee, **data)
        return Response(TaskOut(task).data, status=status.HTTP_201_CREATED)
