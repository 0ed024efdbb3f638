"""Every write to accounts: one transaction each, audited, side effects after commit.

Staff administration checks its actor's permission. The self-service writes (sign-up, email
confirmation, forgotten and changed passwords, API tokens) take no actor: they act on `user`,
who proved to be that person by a password or an emailed link's token checked by the caller."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_totp.models import TOTPDevice

from hms.accounts.models import ApiToken, StaffProfile, User
from hms.core.access import require
from hms.core.audit import audit_record
from hms.core.errors import Conflict, DomainError, NotAllowed, NotFound
from hms.core.events import emit
from hms.core.mail import email_after_commit
from hms.core.models import Department
from hms.core.permissions import STAFF_ROLES, Perm, Role


def _email_taken(email: str, *, exclude_pk=None) -> bool:
    return User.objects.filter(email__iexact=email).exclude(pk=exclude_pk).exists()


def _send_after_commit(*, subject: str, template: str, context: dict, to: str) -> None:
    email_after_commit(subject=subject, body=render_to_string(template, context), to=to)


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """Tokens for email confirmation links. Their own salt: a confirmation link (which may
    linger in a mailbox or a proxy log after use) is never also a set-password link for the
    now active account. The confirmed flag is hashed in, so a used link stops working."""

    key_salt = "hms.accounts.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.email_verified}"


email_confirmation_token_generator = EmailConfirmationTokenGenerator()


def link_token_generator(route: str) -> PasswordResetTokenGenerator:
    """The generator that makes and checks the tokens of one kind of emailed link."""
    if route == "accounts:confirm-email":
        return email_confirmation_token_generator
    return default_token_generator


def token_link(*, user: User, route: str, base_url: str) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = link_token_generator(route).make_token(user)
    return base_url.rstrip("/") + reverse(route, kwargs={"uidb64": uid, "token": token})


def patient_account_register(
    *,
    email: str,
    password: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    phone: str = "",
    base_url: str,
) -> User | None:
    """A patient signs up for the portal; the account stays inactive until email confirmation.

    An email that already has an account gets the same answer (no account discovery): the
    call returns None and the address's owner is emailed instead (a new confirmation link if
    that account was never confirmed)."""
    email = email.strip().lower()
    validate_password(password, User(email=email, given_name=given_name, family_name=family_name))
    with transaction.atomic():
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            _registration_of_existing(user=existing, password=password, base_url=base_url)
            return None
        try:
            with transaction.atomic():  # a savepoint: losing the race ends as the case above
                user = User.objects.create_user(
                    email,
                    password,
                    given_name=given_name.strip(),
                    family_name=family_name.strip(),
                    phone=phone.strip(),
                    role=Role.PATIENT,
                    is_active=False,
                )
        except IntegrityError:
            existing = User.objects.get(email__iexact=email)
            _registration_of_existing(user=existing, password=password, base_url=base_url)
            return None
        audit_record(action="account.register", actor=user, obj=user)
        emit("patient_account.registered", user=user, birth_date=birth_date, phone=phone)
        _send_confirmation(user=user, base_url=base_url)
    return user


def _registration_of_existing(*, user: User, password: str, base_url: str) -> None:
    make_password(password)  # as long as a real registration takes: timing tells nothing either
    audit_record(action="account.register_existing_email", obj=user)
    if user.role == Role.PATIENT and not user.email_verified and not user.is_active:
        _send_confirmation(user=user, base_url=base_url)
        return
    base = base_url.rstrip("/")
    _send_after_commit(
        subject=f"Someone tried to register with your email at {settings.HOSPITAL_NAME}",
        template="accounts/email/register_existing.txt",
        context={
            "user": user,
            "hospital": settings.HOSPITAL_NAME,
            "sign_in": base + reverse("accounts:login"),
            "reset": base + reverse("accounts:password-forgot"),
        },
        to=user.email,
    )


def _send_confirmation(*, user: User, base_url: str) -> None:
    _send_after_commit(
        subject=f"Confirm your email for {settings.HOSPITAL_NAME}",
        template="accounts/email/confirm_email.txt",
        context={
            "user": user,
            "link": token_link(user=user, route="accounts:confirm-email", base_url=base_url),
            "hospital": settings.HOSPITAL_NAME,
            "days": settings.EMAIL_CONFIRMATION_DAYS,
        },
        to=user.email,
    )


def account_confirmation_resend(*, user: User, base_url: str) -> None:
    """A patient who lost (or let expire) the confirmation email gets a new link; only for a
    self-registered account that was never confirmed."""
    if user.role != Role.PATIENT or user.email_verified or user.is_active:
        raise DomainError("This account needs no confirmation.", code="not_pending")
    with transaction.atomic():
        audit_record(action="account.confirmation_resent", obj=user)
        _send_confirmation(user=user, base_url=base_url)


def account_confirm_email(*, user: User) -> User:
    """Confirming the email activates a self-registered patient account, once: a used link
    must not switch an account that was later deactivated back on."""
    with transaction.atomic():
        confirmed = User.objects.filter(pk=user.pk, email_verified=False).update(
            is_active=True, email_verified=True
        )
        if not confirmed:
            raise Conflict("This email address is already confirmed.", code="already_confirmed")
        user.refresh_from_db()
        audit_record(action="account.email_confirmed", actor=user, obj=user)
    return user


def staff_create(
    *,
    actor: User,
    email: str,
    given_name: str,
    family_name: str,
    role: str,
    base_url: str,
    department: Department | None = None,
    job_title: str = "",
    specialty: str = "",
    licence_number: str = "",
    phone: str = "",
) -> User:
    """An administrator adds a staff member, who receives a link to choose a password."""
    require(actor, Perm.STAFF_MANAGE)
    if role not in STAFF_ROLES:
        raise DomainError(
            "Choose a staff role.", code="invalid_role", fields={"role": "Not a staff role."}
        )
    email = email.strip().lower()
    with transaction.atomic():
        if _email_taken(email):
            raise Conflict(
                "An account with this email already exists.",
                code="email_taken",
                fields={"email": "Already in use."},
            )
        if licence_number and StaffProfile.objects.filter(licence_number=licence_number).exists():
            raise Conflict(
                "This licence number belongs to another staff member.",
                code="licence_taken",
                fields={"licence_number": "Already in use."},
            )
        try:
            # A savepoint: a request that won the race for the email or licence since the
            # checks above must end as the same clear conflict, not a server error.
            with transaction.atomic():
                user = User.objects.create_user(
                    email,
                    None,
                    given_name=given_name.strip(),
                    family_name=family_name.strip(),
                    phone=phone.strip(),
                    role=role,
                    email_verified=False,
                )
                StaffProfile.objects.create(
                    user=user,
                    department=department,
                    job_title=job_title,
                    specialty=specialty,
                    licence_number=licence_number.strip(),
                )
        except IntegrityError:
            raise Conflict(
                "An account with this email or licence number already exists.",
                code="staff_taken",
                fields={"email": "Already in use, or the licence number is."},
            ) from None
        audit_record(action="staff.create", actor=actor, obj=user, details={"role": role})
        _send_invitation(user=user, base_url=base_url, reset=False)
    return user


def _send_invitation(*, user: User, base_url: str, reset: bool) -> None:
    _send_after_commit(
        subject=("Reset your password" if reset else "Your staff account")
        + f" at {settings.HOSPITAL_NAME}",
        template="accounts/email/set_password.txt",
        context={
            "user": user,
            "reset": reset,
            "hospital": settings.HOSPITAL_NAME,
            "link": token_link(user=user, route="accounts:set-password", base_url=base_url),
        },
        to=user.email,
    )


def staff_update(
    *,
    actor: User,
    user: User,
    given_name: str,
    family_name: str,
    role: str,
    department: Department | None,
    job_title: str = "",
    specialty: str = "",
    licence_number: str = "",
    phone: str = "",
) -> User:
    """Change a staff member's details and role; a role change is audited with old and new."""
    require(actor, Perm.STAFF_MANAGE)
    if role not in STAFF_ROLES:
        raise DomainError(
            "Choose a staff role.", code="invalid_role", fields={"role": "Not a staff role."}
        )
    if user.pk == actor.pk and role != actor.role:
        raise DomainError(
            "You cannot change your own role.",
            code="own_role",
            fields={"role": "You cannot change your own role."},
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        old_role = locked.role
        licence_number = licence_number.strip()
        if (
            licence_number
            and StaffProfile.objects.filter(licence_number=licence_number)
            .exclude(user=locked)
            .exists()
        ):
            raise Conflict(
                "This licence number belongs to another staff member.",
                code="licence_taken",
                fields={"licence_number": "Already in use."},
            )
        locked.given_name, locked.family_name, locked.phone = (
            given_name.strip(),
            family_name.strip(),
            phone.strip(),
        )
        locked.role = role
        locked.save(update_fields=["given_name", "family_name", "phone", "role"])
        StaffProfile.objects.update_or_create(
            user=locked,
            defaults={
                "department": department,
                "job_title": job_title,
                "specialty": specialty,
                "licence_number": licence_number,
            },
        )
        audit_record(action="staff.update", actor=actor, obj=locked)
        if old_role != role:
            audit_record(
                action="staff.role_change",
                actor=actor,
                obj=locked,
                details={"from": old_role, "to": role},
            )
            _revoke_api_tokens(locked)
    return locked


def staff_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivating a staff member ends their sessions and API tokens at once."""
    require(actor, Perm.STAFF_MANAGE)
    if user.pk == actor.pk and not active:
        raise DomainError("You cannot deactivate your own account.", code="own_account")
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=active)
        user.refresh_from_db()
        if not active:
            _revoke_api_tokens(user)
        audit_record(
            action="staff.activate" if active else "staff.deactivate", actor=actor, obj=user
        )
    return user


def password_reset_link_send(*, user: User, base_url: str) -> None:
    """Someone who forgot their password gets a link; the old password works until it is used."""
    with transaction.atomic():
        audit_record(action="account.password_reset_requested", obj=user)
        _send_invitation(user=user, base_url=base_url, reset=True)


def staff_reset_password(*, actor: User, user: User, base_url: str) -> None:
    """The old password stops working now; the staff member gets a link to choose a new one."""
    require(actor, Perm.STAFF_MANAGE)
    with transaction.atomic():
        user.set_unusable_password()
        user.save(update_fields=["password"])
        _revoke_api_tokens(user)
        audit_record(action="staff.password_reset", actor=actor, obj=user)
        _send_invitation(user=user, base_url=base_url, reset=True)


def password_set(*, user: User, password: str, via_link: bool) -> User:
    """Set a new password: every other session and every API token of the user ends."""
    validate_password(password, user)
    with transaction.atomic():
        user.set_password(password)
        fields = ["password"]
        if via_link and not user.email_verified:
            user.email_verified = True
            fields.append("email_verified")
        user.save(update_fields=fields)
        _revoke_api_tokens(user)
        audit_record(
            action="account.password_change", actor=user, obj=user, details={"via_link": via_link}
        )
    return user


def _revoke_api_tokens(user: User) -> None:
    """Sessions end by themselves (a changed password or deactivation fails Django's session
    check on the next request); API tokens are ours to revoke."""
    ApiToken.objects.filter(user=user).delete()


def api_token_issue(*, user: User, two_factor: bool = False) -> tuple[str, ApiToken]:
    """Issue a bearer token; the caller sees the secret once, the database keeps only its hash.
    `two_factor`: the sign-in passed a TOTP code (administrators' tokens need it)."""
    secret = ApiToken.new_secret()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=user,
            digest=ApiToken.digest_of(secret),
            expires_at=timezone.now() + timedelta(hours=settings.API_TOKEN_TTL_HOURS),
            two_factor=two_factor,
        )
        audit_record(
            action="auth.api_token", actor=user, obj=user, details={"two_factor": two_factor}
        )
    return secret, token


def api_token_revoke(*, user: User, token_id: int) -> None:
    """A user revokes one of their own API tokens; anyone else's is not found."""
    with transaction.atomic():
        revoked, _ = ApiToken.objects.filter(pk=token_id, user=user).delete()
        if not revoked:
            raise NotFound("No such token.")
        audit_record(action="auth.api_token_revoke", actor=user, obj=user)


# --- Two-factor enrolment --------------------------------------------------------------------


def two_factor_enrolment_start(*, user: User) -> TOTPDevice:
    """The staff member's authenticator device waiting for its first code (created once).

    Refused once a confirmed device exists: otherwise a leftover unconfirmed device would let
    someone who knows only the password enrol their own phone and skip the real device's code.
    """
    if not user.is_hospital_staff:
        raise NotAllowed("Two-factor sign-in is for hospital staff.")
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise Conflict("Two-factor sign-in is already on for your account.", code="already_on")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="Authenticator", confirmed=False)


def two_factor_enrolment_confirm(*, user: User, device: TOTPDevice, code: str) -> bool:
    """Turn two-factor sign-in on when the code from the new device is right (audited)."""
    if device.user_id != user.pk or device.confirmed:
        raise Conflict("This device cannot be confirmed.", code="invalid_state")
    if not device.verify_token(code.strip()):
        return False
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(action="auth.2fa_enabled", actor=user, obj=user)
    return True
