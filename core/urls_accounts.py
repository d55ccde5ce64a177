"""Tenant-less account pages under /accounts/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core import account_views

urlpatterns = [
    path("signup/", account_views.SignUpView.as_view(), name="signup"),
    path("login/", account_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "invitation/<str:token>/",
        account_views.AcceptInvitationView.as_view(),
        name="accept_invitation",
    ),
    path(
        "password-reset/",
        account_views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        account_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
