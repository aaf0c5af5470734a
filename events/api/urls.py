"""Routes of the events intake and tracking endpoints."""

from django.urls import path

from events.api import views

urlpatterns = [
    path("events", views.EventsApi.as_view(), name="events"),
    path("track/impression/<str:token>", views.impression_beacon, name="track-impression"),
    path("track/click/<str:token>", views.click_redirect, name="track-click"),
]
