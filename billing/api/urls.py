"""Routes of the billing API."""

from django.urls import path

from billing.api import views

urlpatterns = [
    path("conversions", views.ConversionsApi.as_view(), name="conversions"),
]
