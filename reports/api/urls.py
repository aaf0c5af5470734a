"""Routes of the read-only report API."""

from django.urls import path

from reports.api import views

urlpatterns = [
    path("reports/status", views.ReportStatusApi.as_view(), name="reports-status"),
    path("reports/overview", views.OverviewReportApi.as_view(), name="reports-overview"),
    path("reports/traffic", views.TrafficReportApi.as_view(), name="reports-traffic"),
    path("reports/conversions", views.ConversionReportApi.as_view(), name="reports-conversions"),
    path("reports/placements", views.PlacementReportApi.as_view(), name="reports-placements"),
    path("reports/facilitators", views.FacilitatorReportApi.as_view(), name="reports-facilitators"),
    path(
        "reports/invalid-traffic",
        views.InvalidTrafficReportApi.as_view(),
        name="reports-invalid-traffic",
    ),
]
