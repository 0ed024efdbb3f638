"""Applies the permission catalogue to Django's auth tables (groups named after roles), so that
reports and database tools see the same rights the code enforces. Run after every migrate."""

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from hms.core.permissions import ROLE_PERMISSIONS, Perm


def roles_sync() -> int:
    from hms.accounts.models import User

    with transaction.atomic():
        content_type = ContentType.objects.get_for_model(User)
        by_perm = {}
        for perm in Perm:
            by_perm[perm], _ = Permission.objects.update_or_create(
                content_type=content_type,
                codename=perm.codename,
                defaults={"name": f"Can {perm.value}"[:255]},
            )
        Permission.objects.filter(content_type=content_type, codename__contains="__").exclude(
            codename__in=[p.codename for p in Perm]
        ).delete()
        for role, perms in ROLE_PERMISSIONS.items():
            group, _ = Group.objects.get_or_create(name=f"role:{role.value}")
            group.permissions.set([by_perm[p] for p in perms])
    return len(ROLE_PERMISSIONS)
