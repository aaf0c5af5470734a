"""The ledger tables in the admin: read-only for everyone, amounts in USDC, codes in words."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from billing import services as billing_services
from billing.models import InvalidTraffic
from campaigns.models import MatchRequest, Placement
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import written

pytestmark = pytest.mark.django_db
PAID = "https://api.example.com/v1/quote"


@pytest.fixture
def placement(facilitator_client):
    CampaignFactory(target_url_patterns=[PAID], max_bid_amount=2_500_000)
    body = {
        "resourceUrl": PAID,
        "network": "eip155:8453",
        "payerWallet": evm_address(0xBEEF),
        "settledAmount": "10000",
    }
    assert facilitator_client.post("/v1/match", body, format="json").json()["matched"]
    written()
    return Placement.objects.get()


@pytest.fixture
def operator(client):
    client.force_login(get_user_model().objects.create_superuser("op", password="pw-long-1x"))
    return client


@pytest.mark.parametrize("model", [Placement, MatchRequest])
def test_ledger_rows_cannot_be_added_changed_or_deleted(operator, placement, model):
    row = placement if model is Placement else placement.match_request
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    listing = operator.get(reverse(f"{name}_changelist")).content.decode()
    assert reverse(f"{name}_add") not in listing and "delete_selected" not in listing
    assert operator.get(reverse(f"{name}_add")).status_code == 403
    assert (
        operator.post(reverse(f"{name}_delete", args=[row.pk]), {"post": "yes"}).status_code == 403
    )
    page = operator.get(reverse(f"{name}_change", args=[row.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    # Shown, not editable: no inputs for its fields, no dropdown of every match request.
    assert "<select" not in body and 'name="billed_millis"' not in body
    assert 'name="_save"' not in body
    before = model.objects.filter(pk=row.pk).values().get()
    operator.post(reverse(f"{name}_change", args=[row.pk]), {"billed_millis": "1"})
    assert model.objects.filter(pk=row.pk).values().get() == before


def test_amounts_in_usdc_and_reasons_in_words(operator, placement):
    listing = operator.get(reverse("admin:campaigns_placement_changelist")).content.decode()
    assert "2.500000 USDC" in listing
    page = operator.get(reverse("admin:campaigns_placement_change", args=[placement.pk]))
    assert "2.500000 USDC" in page.content.decode()
    assert "Per conversion" in page.content.decode()
    billing_services.flag(
        source=InvalidTraffic.Source.values[0],
        reason="payer_is_advertiser",
        now=timezone.now(),
        placement=placement,
    )
    listing = operator.get(reverse("admin:billing_invalidtraffic_changelist")).content.decode()
    assert "Payer is advertiser" in listing and "payer_is_advertiser<" not in listing
