"""Routes of the campaign and match APIs."""

from django.urls import path

from campaigns.api import views

urlpatterns = [
    path("advertisers", views.AdvertiserListCreateApi.as_view(), name="advertisers"),
    path("campaigns", views.CampaignListCreateApi.as_view(), name="campaigns"),
    path("campaigns/<str:campaign_id>", views.CampaignDetailApi.as_view(), name="campaign"),
    path(
        "campaigns/<str:campaign_id>/activate",
        views.CampaignActivateApi.as_view(),
        name="campaign-activate",
    ),
    path(
        "campaigns/<str:campaign_id>/pause", views.CampaignPauseApi.as_view(), name="campaign-pause"
    ),
    path("match", views.MatchApi.as_view(), name="match"),
]
