from django.urls import path

from hms.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("register/", views.register, name="register"),
    path("register/done/", views.register_done, name="register-done"),
    path("confirm/<uidb64>/<token>/", views.confirm_email, name="confirm-email"),
    path("password/set/<uidb64>/<token>/", views.set_password, name="set-password"),
    path("password/forgot/", views.forgot_password, name="password-forgot"),
    path("password/change/", views.password_change, name="password-change"),
    path("tokens/", views.api_tokens, name="api-tokens"),
    path("2fa/setup/", views.two_factor_setup, name="2fa-setup"),
    path("2fa/verify/", views.two_factor_verify, name="2fa-verify"),
    path("staff/", views.staff_list, name="staff-list"),
    path("staff/new/", views.staff_create, name="staff-create"),
    path("staff/<int:pk>/", views.staff_edit, name="staff-edit"),
    path("staff/<int:pk>/active/", views.staff_set_active, name="staff-set-active"),
    path("staff/<int:pk>/reset-password/", views.staff_reset_password, name="staff-reset-password"),
]
