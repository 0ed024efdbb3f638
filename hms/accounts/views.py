import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from hms.accounts import services
from hms.accounts.forms import (
    ForgotPasswordForm,
    NewPasswordForm,
    PasswordChangeForm,
    PatientRegistrationForm,
    SignInForm,
    StaffForm,
    TotpCodeForm,
)
from hms.accounts.models import ApiToken, User
from hms.accounts.throttle import REGISTRATION_REFUSED, registration_throttled
from hms.core.access import public, require_perm, signed_in
from hms.core.audit import audit_record
from hms.core.errors import DomainError
from hms.core.forms import form_add_domain_error
from hms.core.permissions import STAFF_ROLES, Perm, Role


def lockout_response(request, credentials, *args, **kwargs):
    """What axes shows a locked-out account or address."""
    minutes = int(settings.AXES_COOLOFF_TIME * 60)
    form = SignInForm(request)
    message = (
        "Too many failed sign-in attempts: this account or address is locked for "
        f"{minutes} minutes. Contact the hospital's administrator if you need access sooner."
    )
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        from hms.core.api import error_body

        return JsonResponse(error_body("locked_out", message), status=429)
    return render(request, "accounts/login.html", {"form": form, "lockout": message}, status=429)


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(default)


sign_in = public(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=SignInForm,
        redirect_authenticated_user=True,
    )
)


@public
@require_POST
def sign_out(request):
    logout(request)
    messages.info(request, "You are signed out.")
    return redirect("core:landing")


@public
def register(request):
    if request.user.is_authenticated:
        return redirect("core:dashboard")
    form = PatientRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and registration_throttled(request):
        form.add_error(None, REGISTRATION_REFUSED)
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.patient_account_register(
                email=data["email"],
                password=data["password1"],
                given_name=data["given_name"],
                family_name=data["family_name"],
                birth_date=data["birth_date"],
                phone=data["phone"],
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as exc:
            form.add_error("password1", exc)
        else:  # the same page whether or not the email had an account (its owner is emailed)
            return redirect("accounts:register-done")
    return render(request, "accounts/register.html", {"form": form})


@public
def register_done(request):
    return render(request, "accounts/register_done.html")


def _user_from_link(uidb64: str, token: str, route: str) -> User | None:
    try:
        user = User.objects.get(pk=force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError, User.DoesNotExist):
        return None
    return user if services.link_token_generator(route).check_token(user, token) else None


@public
def confirm_email(request, uidb64, token):
    user = _user_from_link(uidb64, token, "accounts:confirm-email")
    if user is None or user.role != Role.PATIENT:
        return render(request, "accounts/link_invalid.html", status=400)
    try:
        services.account_confirm_email(user=user)
    except DomainError:
        return render(request, "accounts/link_invalid.html", status=400)
    messages.success(request, "Your email is confirmed. You can sign in now.")
    return redirect("accounts:login")


@public
def set_password(request, uidb64, token):
    """The link in a staff invitation, a reset by an administrator or a forgotten password."""
    user = _user_from_link(uidb64, token, "accounts:set-password")
    if user is None or not user.is_active:
        return render(request, "accounts/link_invalid.html", status=400)
    form = NewPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        services.password_set(user=user, password=form.cleaned_data["password1"], via_link=True)
        messages.success(request, "Your password is set. Sign in with it now.")
        return redirect("accounts:login")
    return render(
        request,
        "accounts/password_form.html",
        {"form": form, "target": user, "title": "Choose your password"},
    )


@public
def forgot_password(request):
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = User.objects.filter(email__iexact=form.cleaned_data["email"]).first()
        base_url = request.build_absolute_uri("/")
        if user is not None and user.is_active:
            services.password_reset_link_send(user=user, base_url=base_url)
        elif user is not None and user.role == Role.PATIENT and not user.email_verified:
            # A patient who never confirmed their email gets the confirmation link again.
            services.account_confirmation_resend(user=user, base_url=base_url)
        # The same answer whether or not the account exists: no account discovery.
        messages.info(
            request, "If an account uses that email, a link to set a new password is on its way."
        )
        return redirect("accounts:login")
    return render(
        request, "accounts/password_form.html", {"form": form, "title": "Forgot your password"}
    )


@signed_in
def password_change(request):
    form = PasswordChangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.password_set(
            user=request.user, password=form.cleaned_data["password1"], via_link=False
        )
        # Keep this session; every other session and API token of the user ends.
        update_session_auth_hash(request, request.user)
        messages.success(request, "Password changed. You were signed out everywhere else.")
        return redirect("core:dashboard")
    return render(
        request, "accounts/password_form.html", {"form": form, "title": "Change your password"}
    )


@signed_in
def api_tokens(request):
    """The user's live REST API tokens, each with a button that revokes it."""
    if request.method == "POST":
        try:
            services.api_token_revoke(user=request.user, token_id=_id_or_zero(request.POST))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, "The token is revoked.")
        return redirect("accounts:api-tokens")
    tokens = ApiToken.objects.live().filter(user=request.user).order_by("-created_at")
    return render(request, "accounts/api_tokens.html", {"tokens": tokens})


def _id_or_zero(data) -> int:
    raw = data.get("token", "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else 0


# --- Two-factor (TOTP) ------------------------------------------------------------------------


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


@signed_in
def two_factor_setup(request):
    try:
        device = services.two_factor_enrolment_start(user=request.user)
    except DomainError as refusal:
        messages.info(request, refusal.message)
        return redirect("core:dashboard")
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        if services.two_factor_enrolment_confirm(user=request.user, device=device, code=code):
            otp_login(request, device)
            messages.success(request, "Two-factor sign-in is on.")
            return HttpResponseRedirect(_next_url(request, "core:dashboard"))
        form.add_error("code", "That code is not right. Check the time on your phone and retry.")
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr": _qr_data_uri(device.config_url), "secret": secret},
    )


@signed_in
def two_factor_verify(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None:
        return redirect("accounts:2fa-setup")
    form = TotpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"].strip()):
            otp_login(request, device)
            audit_record(action="auth.2fa_verified", obj=request.user)
            return HttpResponseRedirect(_next_url(request, "core:dashboard"))
        audit_record(action="auth.2fa_failed", obj=request.user)
        form.add_error("code", "That code is not right. Check the time on your phone and retry.")
    return render(request, "accounts/two_factor_verify.html", {"form": form})


# --- Staff administration -------------------------------------------------------------------


@require_perm(Perm.STAFF_MANAGE)
def staff_list(request):
    # PostgreSQL refuses NUL characters in a query: drop them instead of failing with a 500.
    query = request.GET.get("q", "").replace("\x00", "").strip()[:200]
    role = request.GET.get("role", "")
    staff = (
        User.objects.filter(role__in=list(STAFF_ROLES))
        .select_related("staff_profile__department")
        .order_by("family_name", "given_name")
    )
    if query:
        staff = staff.filter(
            Q(email__icontains=query)
            | Q(given_name__icontains=query)
            | Q(family_name__icontains=query)
        )
    if role in STAFF_ROLES:
        staff = staff.filter(role=role)
    page = Paginator(staff, 25).get_page(request.GET.get("page"))
    return TemplateResponse(
        request,
        "accounts/staff_list.html",
        {"page": page, "q": query, "role": role, "roles": [r for r in Role if r in STAFF_ROLES]},
    )


@require_perm(Perm.STAFF_MANAGE)
def staff_create(request):
    form = StaffForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_create(
                actor=request.user, base_url=request.build_absolute_uri("/"), **form.cleaned_data
            )
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(
                request, f"{user.full_name} was added as {user.role_label}; an invitation was sent."
            )
            return redirect("accounts:staff-list")
    return render(request, "accounts/staff_form.html", {"form": form, "creating": True})


@require_perm(Perm.STAFF_MANAGE)
def staff_edit(request, pk):
    member = get_object_or_404(User.objects.filter(role__in=list(STAFF_ROLES)), pk=pk)
    profile = getattr(member, "staff_profile", None)
    initial = {
        "given_name": member.given_name,
        "family_name": member.family_name,
        "email": member.email,
        "phone": member.phone,
        "role": member.role,
        "department": profile.department_id if profile else None,
        "job_title": profile.job_title if profile else "",
        "specialty": profile.specialty if profile else "",
        "licence_number": profile.licence_number if profile else "",
    }
    form = StaffForm(request.POST or None, initial=initial)
    form.fields["email"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "email"}
        try:
            services.staff_update(actor=request.user, user=member, **data)
        except DomainError as exc:
            form_add_domain_error(form, exc)
        else:
            messages.success(request, f"{member.full_name} was updated.")
            return redirect("accounts:staff-list")
    return render(request, "accounts/staff_form.html", {"form": form, "member": member})


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def staff_set_active(request, pk):
    member = get_object_or_404(User.objects.filter(role__in=list(STAFF_ROLES)), pk=pk)
    active = request.POST.get("active") == "1"
    try:
        services.staff_set_active(actor=request.user, user=member, active=active)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        state = "reactivated" if active else "deactivated"
        messages.success(request, f"{member.full_name} was {state}.")
    return redirect("accounts:staff-list")


@require_perm(Perm.STAFF_MANAGE)
@require_POST
def staff_reset_password(request, pk):
    member = get_object_or_404(User.objects.filter(role__in=list(STAFF_ROLES)), pk=pk)
    services.staff_reset_password(
        actor=request.user, user=member, base_url=request.build_absolute_uri("/")
    )
    messages.success(
        request, f"{member.full_name}'s password was cleared and a reset link was emailed."
    )
    return redirect("accounts:staff-list")
