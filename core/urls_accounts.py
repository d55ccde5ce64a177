"""Tenant-less account pages under /accounts/."""

from django.contrib.auth import views as auth_views
from django.urls import path

from core import views_accounts

urlpatterns = [
    path("signup/", views_accounts.SignUpView.as_view(), name="signup"),
    path("login/", views_accounts.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "invitation/<str:token>/",
        views_accounts.AcceptInvitationView.as_view(),
        name="accept_invitation",
    ),
    path(
        "password-reset/",
        views_accounts.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        views_accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
