"""Bearer tokens for the REST API and the permission class that reads the catalogue."""

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions

from hms.accounts.models import ApiToken
from hms.core.access import audit_refused_patient
from hms.core.permissions import Perm, Role, user_has_perm


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode().lower() != self.keyword.lower():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Malformed Authorization header.")
        secret = header[1].decode(errors="replace")
        try:  # get(): the digest is unique, and an ORDER BY cost more to compile than to run
            token = (
                ApiToken.objects.live()
                .select_related("user")
                .get(digest=ApiToken.digest_of(secret))
            )
        except ApiToken.DoesNotExist:
            token = None
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        if token.user.role == Role.ADMIN and not token.two_factor:
            # Imported here: the middleware module loads DRF's views, which load this module.
            from hms.accounts.middleware import two_factor_exempt

            if not two_factor_exempt(token.user):
                raise exceptions.PermissionDenied(
                    "This token was issued without two-factor sign-in; administrators must "
                    "request a new one with their code.",
                    code="two_factor_required",
                )
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Describes the bearer token in the OpenAPI schema (Swagger UI's "Authorize" button)."""

    target_class = BearerTokenAuthentication
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A token from POST /api/v1/auth/token/, sent as "
            "`Authorization: Bearer <token>`.",
        }


class HasRolePermission(permissions.BasePermission):
    """Reads `required_perm` (or `required_perms[action]`) from the view.

    A view that declares nothing is refused: forgetting the declaration fails closed.
    """

    message = "Your role does not allow this."

    def has_permission(self, request, view):
        method = request.method.lower()
        # HEAD is a GET without the body: it needs what GET needs.
        method = "get" if method == "head" else method
        if not hasattr(view, method):
            return True  # a method the view does not answer: DRF says 405, not 401/403
        perm = required_perm_of(view, getattr(view, "action", None) or method)
        if perm is None:
            return False
        if perm == "public":
            return True
        if perm == "signed_in":
            return bool(request.user and request.user.is_authenticated)
        allowed = user_has_perm(request.user, perm)
        if not allowed and request.user.is_authenticated:
            asked = view.kwargs.get("patient_id") or request.query_params.get("patient")
            if asked:
                audit_refused_patient(asked, perm)
        return allowed


def required_perm_of(view, action: str | None) -> Perm | str | None:
    perms = getattr(view, "required_perms", None)
    if perms is not None:
        return perms.get(action)
    return getattr(view, "required_perm", None)
