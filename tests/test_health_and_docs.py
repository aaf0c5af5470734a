"""Health, the OpenAPI schema and the offline docs UI."""

import re

import pytest
from django.test import Client

from adnet import health


@pytest.mark.django_db
def test_healthz_reports_database_and_broker(settings):
    response = Client().get("/healthz")
    assert response.status_code == 200
    parts = response.json()["parts"]
    assert parts["database"]["status"] == "ok"
    assert parts["broker"]["status"] == "ok"


@pytest.mark.redis
def test_broker_check_talks_to_real_redis(settings):
    assert health.broker().status == health.OK


@pytest.mark.django_db
def test_schema_documents_every_endpoint_and_the_error_shape():
    response = Client().get("/v1/schema", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    paths = set(schema["paths"])
    assert {
        "/v1/match",
        "/v1/advertisers",
        "/v1/campaigns",
        "/v1/campaigns/{campaign_id}",
        "/v1/campaigns/{campaign_id}/activate",
        "/v1/campaigns/{campaign_id}/pause",
    } <= paths
    error = schema["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["$ref"].endswith("/ErrorDetail")
    match_props = schema["components"]["schemas"]["MatchInputRequest"]["properties"]
    assert {
        "resourceUrl",
        "network",
        "payerWallet",
        "settledAmount",
        "transport",
        "txHash",
        "resourceDescription",
    } == set(match_props)


@pytest.mark.django_db
def test_docs_ui_loads_only_local_assets():
    client = Client()
    page = client.get("/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assets = re.findall(r"""(?:src|href)=["'](/static/[^"']+)["']""", html)
    assert any(a.endswith(".js") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


@pytest.mark.django_db
def test_unknown_api_path_answers_json_404():
    response = Client().get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
