"""Sample URL arguments for the role-matrix test (tests/test_role_matrix.py).

The matrix test opens every URL of config.urls as every role. A URL with parameters needs
real arguments: `URL_SAMPLES` maps the URL's full name ("namespace:name", or the bare name
for routes without a namespace, such as DRF router routes "patient-detail") to a callable
that creates whatever the URL points at and returns the kwargs for `reverse()`. Each
callable is called once per test run, inside the test's database.

How an app adds its samples, either way works:
- put `URL_SAMPLES = {...}` in `hms/<app>/tests/url_samples.py` (merged in automatically,
  so nobody has to edit this shared file), or
- add an entry below.
A sample must point at an object that a staff role allowed to open the URL can see; the test
then checks that roles without the permission get 403 (or 404) and anonymous users are refused.
The matrix's patient user never owns a sampled object, so portal URLs about an object must
refuse it (404, or 403), as the object-level rule says.
"""

import importlib
import importlib.util
from collections.abc import Callable

from django.apps import apps
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from hms.core.permissions import Role


def _staff_member() -> dict:
    from hms.accounts.tests.factories import StaffProfileFactory

    return {"pk": StaffProfileFactory(user__role=Role.NURSE).user.pk}


def _link_for(role: Role, *, is_active: bool, route: str) -> dict:
    from hms.accounts.services import link_token_generator
    from hms.accounts.tests.factories import UserFactory

    user = UserFactory(role=role, is_active=is_active, email_verified=False)
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": link_token_generator(route).make_token(user),
    }


URL_SAMPLES: dict[str, Callable[[], dict]] = {
    "accounts:staff-edit": _staff_member,
    "accounts:staff-set-active": _staff_member,
    "accounts:staff-reset-password": _staff_member,
    "accounts:confirm-email": lambda: _link_for(
        Role.PATIENT, is_active=False, route="accounts:confirm-email"
    ),
    "accounts:set-password": lambda: _link_for(
        Role.NURSE, is_active=True, route="accounts:set-password"
    ),
}


def _merge_app_samples() -> None:
    for config in apps.get_app_configs():
        if not config.name.startswith("hms."):
            continue
        module_name = f"{config.name}.tests.url_samples"
        if importlib.util.find_spec(f"{config.name}.tests") is None:
            continue
        if importlib.util.find_spec(module_name) is None:
            continue
        module = importlib.import_module(module_name)
        clashes = set(module.URL_SAMPLES) & set(URL_SAMPLES)
        if clashes:
            raise RuntimeError(f"{module_name} redefines URL samples {sorted(clashes)}")
        URL_SAMPLES.update(module.URL_SAMPLES)


_merge_app_samples()
