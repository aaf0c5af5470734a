"""Fixtures of the end-to-end tests: the ad network as real processes, driven as an operator."""

import datetime as dt
from dataclasses import dataclass

import pytest

from facilitators import services as facilitator_services
from tests.factories import FacilitatorFactory
from tests.support import procs
from tests.support.stack import *  # noqa: F403  (the stack fixture and its report hook)


@dataclass
class AdNetwork:
    """The running ad network: its base URL, an operator key and one facilitator's key."""

    port: int
    operator_key: str
    facilitator_key: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def create_campaign(
        self, *, rec_url: str, target: str, bid_strategy: str = "cpa", **overrides
    ) -> str:
        """An advertiser and an active campaign, made through the operator API as a person would."""
        status, advertiser, _ = procs.request(
            self.port,
            "POST",
            "/v1/advertisers",
            key=self.operator_key,
            body={
                "name": "Weather Co.",
                "wallet_address": "0x" + "a0" * 20,
                "network": "eip155:8453",
            },
        )
        assert status == 201, advertiser
        body = {
            "advertiser_id": advertiser["id"],
            "name": "Forecasts for quote buyers",
            "budget_total": "50000000",
            "budget_daily": "5000000",
            "max_bid_amount": "7000",
            "bid_strategy": bid_strategy,
            "schedule_start": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(),
            "rec_resource_url": rec_url,
            "rec_description": "Hourly forecasts",
            "rec_sponsor_name": "Weather Co.",
            "target_url_patterns": [target],
            **overrides,
        }
        status, campaign, _ = procs.request(
            self.port, "POST", "/v1/campaigns", key=self.operator_key, body=body
        )
        assert status == 201, campaign
        status, activated, _ = procs.request(
            self.port, "POST", f"/v1/campaigns/{campaign['id']}/activate", key=self.operator_key
        )
        assert status == 200, activated
        return campaign["id"]


@pytest.fixture
def adnet(stack) -> AdNetwork:
    """uWSGI, a Celery worker with beat and a private Redis on the test database."""
    stack.start_worker()
    facilitator = FacilitatorFactory()
    return AdNetwork(
        port=stack.web_port,
        operator_key=facilitator_services.issue_operator_key(name="e2e operator").api_key,
        facilitator_key=facilitator_services.issue_facilitator_key(
            facilitator_id=facilitator.id
        ).api_key,
    )
