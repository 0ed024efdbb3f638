from django.contrib.auth.backends import ModelBackend

from hms.core.permissions import ROLE_PERMISSIONS, Perm, Role, user_has_perm


class RoleBackend(ModelBackend):
    """Email + password sign-in; permissions come from the role catalogue, not from tables."""

    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or user_obj.role not in Role:
            return set()
        return {str(p) for p in ROLE_PERMISSIONS[Role(user_obj.role)]}

    def has_perm(self, user_obj, perm, obj=None):
        try:
            return user_has_perm(user_obj, Perm(perm))
        except ValueError:
            return False


def axes_username(request, credentials):
    """Count failures against the lower-cased email so 'A@x' and 'a@x' share one counter."""
    username = (credentials or {}).get("username") or (credentials or {}).get("email") or ""
    if not username and request is not None:
        username = request.POST.get("username", "")
    return username.strip().lower()
