"""The API's permission class reads the declaration on the view and fails closed."""

import pytest
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView
from rest_framework.viewsets import ViewSet

from hms.accounts.api_auth import HasRolePermission
from hms.core.permissions import Perm, Role

factory = APIRequestFactory()


class PublicApi(APIView):
    permission_classes = [HasRolePermission]
    required_perm = "public"

    def get(self, request):
        return Response({"ok": True})


class AuditApi(APIView):
    permission_classes = [HasRolePermission]
    required_perm = Perm.AUDIT_VIEW

    def get(self, request):
        return Response({"ok": True})


class PerMethodApi(APIView):
    permission_classes = [HasRolePermission]
    required_perms = {"get": Perm.STAFF_AREA, "post": Perm.STAFF_MANAGE}

    def get(self, request):
        return Response({"ok": True})

    def post(self, request):
        return Response({"ok": True})


class UndeclaredApi(APIView):
    permission_classes = [HasRolePermission]

    def get(self, request):
        return Response({"ok": True})


class Things(ViewSet):
    permission_classes = [HasRolePermission]
    required_perms = {"list": "signed_in", "create": Perm.STAFF_MANAGE}

    def list(self, request):
        return Response([])

    def create(self, request):
        return Response({}, status=201)

    def destroy(self, request, pk=None):
        return Response(status=204)


def _get(view, user=None, method="get", **kwargs):
    request = getattr(factory, method)("/api/v1/x/")
    if user is not None:
        force_authenticate(request, user=user)
    return view(request, **kwargs)


def test_a_view_declared_public_with_the_role_permission_class_lets_anyone_in(db):
    assert _get(PublicApi.as_view()).status_code == 200


@pytest.mark.django_db
def test_a_role_permission_is_granted_only_to_roles_that_have_it(make_user):
    assert _get(AuditApi.as_view(), make_user(Role.ADMIN)).status_code == 200
    assert _get(AuditApi.as_view(), make_user(Role.DOCTOR)).status_code == 403
    assert _get(AuditApi.as_view()).status_code in (401, 403)


@pytest.mark.django_db
def test_a_deactivated_user_loses_the_roles_permissions(make_user):
    admin = make_user(Role.ADMIN, is_active=False)
    assert _get(AuditApi.as_view(), admin).status_code == 403


@pytest.mark.django_db
def test_a_view_without_a_declaration_refuses_everyone(make_user):
    assert _get(UndeclaredApi.as_view(), make_user(Role.ADMIN)).status_code == 403


@pytest.mark.django_db
def test_a_viewset_checks_the_permission_of_each_action(make_user):
    view = Things.as_view({"get": "list", "post": "create"})
    doctor = make_user(Role.DOCTOR)
    assert _get(view, doctor).status_code == 200
    assert _get(view, doctor, method="post").status_code == 403
    assert _get(view, make_user(Role.ADMIN), method="post").status_code == 201
    undeclared = Things.as_view({"delete": "destroy"})
    assert _get(undeclared, make_user(Role.ADMIN), method="delete", pk="1").status_code == 403


@pytest.mark.django_db
def test_an_api_view_keyed_by_method_checks_each_method_and_head_like_get(make_user):
    view = PerMethodApi.as_view()
    nurse = make_user(Role.NURSE)
    assert _get(view, nurse).status_code == 200
    assert _get(view, nurse, method="head").status_code == 200
    assert _get(view, nurse, method="post").status_code == 403
    assert _get(view, nurse, method="options").status_code == 403
    assert _get(view, make_user(Role.PATIENT), method="head").status_code == 403
