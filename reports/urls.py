"""Routes of the report pages, mounted at /admin/reports/, for staff who are not advertisers."""

from django.contrib import admin
from django.urls import path

from reports import views

app_name = "reports"


def _staff(view):
    return admin.site.operator_view(view)


urlpatterns = [
    path("", _staff(views.overview), name="overview"),
    path("overview.csv", _staff(views.overview_csv), name="overview-csv"),
    path("traffic.csv", _staff(views.traffic_csv), name="traffic-csv"),
    path("conversions/", _staff(views.conversions), name="conversions"),
    path("conversions.csv", _staff(views.conversions_csv), name="conversions-csv"),
    path("facilitators/", _staff(views.facilitators), name="facilitators"),
    path("facilitators.csv", _staff(views.facilitators_csv), name="facilitators-csv"),
    path("invalid-traffic/", _staff(views.invalid_traffic), name="invalid-traffic"),
    path("invalid-traffic.csv", _staff(views.invalid_traffic_csv), name="invalid-traffic-csv"),
    path("placements/", _staff(views.placements), name="placements"),
    path("placements.csv", _staff(views.placements_csv), name="placements-csv"),
]
