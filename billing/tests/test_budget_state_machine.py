"""Property test: any sequence of matches, beacons, events, clicks, conversions, replays,
day rollovers, releases, journal drains, grant top-ups and reaps, and Redis flushes keeps
the books exact and every campaign within budget."""

import datetime as dt
import random
import uuid

import pytest
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from billing import services as billing
from billing.models import Charge
from campaigns import budget, catalog, grants, journal
from campaigns import services as campaign_services
from campaigns.models import Campaign, Placement
from events import services as events
from tests.factories import (
    AdvertiserFactory,
    CampaignFactory,
    FacilitatorFactory,
    evm_address,
    settlement,
)

PAID = "https://api.example.com/v1/quote"
START = dt.datetime(2026, 3, 1, 23, 0, tzinfo=dt.UTC)  # an hour before a UTC midnight

STRATEGIES = [
    # (strategy, max_bid, budget_total, budget_daily): small budgets, so they run out.
    ("cpa", 1000, 4000, 3000),
    ("cpm", 2000, 9, 5),
    ("cpc", 500, 1500, 1000),
    ("hybrid", 1000, 3000, 2000),
]


class BillingMachine(RuleBasedStateMachine):
    placements = Bundle("placements")

    def __init__(self):
        super().__init__()
        # Each run has its own Redis keys: its grants die with its rolled-back rows.
        self.prefix = f"test-machine-{uuid.uuid4().hex}:"
        self._settings = override_settings(BUDGET_REDIS_PREFIX=self.prefix)
        self._settings.enable()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        self.now = START
        self.tx = 0
        self.sent_events: list[events.EventInput] = []
        self.reports: list[billing.ConversionInput] = []
        self.rng = random.Random(0)

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)
        if budget.enabled():
            self._flush_keys()
        self._settings.disable()

    def _flush_keys(self):
        store = budget.store()
        keys = list(store.redis.scan_iter(match=f"{self.prefix}*", count=1000))
        if keys:
            store.redis.delete(*keys)

    def placement(self, placement_id):
        """The placement's row, once the journal has written it (None if it never will)."""
        if not journal.await_placement(placement_id):
            return None
        return Placement.objects.get(pk=placement_id)

    def next_tx(self) -> str:
        self.tx += 1
        return "0x" + f"{self.tx:064x}"

    @initialize()
    def campaigns(self):
        catalog.forget()  # each run has new campaigns, created behind the services' back
        self.facilitator = FacilitatorFactory()
        self.campaigns = []
        for strategy, bid, total, daily in STRATEGIES:
            self.campaigns.append(
                CampaignFactory(
                    advertiser=AdvertiserFactory(),
                    bid_strategy=strategy,
                    max_bid_amount=bid,
                    # Low, so caps bind, and a flushed Redis (which forgets its counts)
                    # must be caught by the journal's own count in PostgreSQL.
                    frequency_cap=3,
                    budget_total=total,
                    budget_daily=daily,
                    attribution_window_seconds=600,
                    schedule_start=START - dt.timedelta(days=1),
                    rec_resource_url=f"https://sponsor-{strategy}.example.net/tool",
                )
            )

    # --- traffic ---------------------------------------------------------------------------

    @rule(
        target=placements,
        payer=st.integers(1, 6),
        transport=st.sampled_from(["http", "http", "mcp", "a2a"]),
        with_tx=st.booleans(),
    )
    def match(self, payer, transport, with_tx):
        outcome = campaign_services.match_settlement(
            facilitator_id=self.facilitator.id,
            settlement=settlement(PAID, evm_address(payer), transport=transport),
            settled_amount=10_000,
            tx_hash=self.next_tx() if with_tx else "",
            now=self.now,
            rng=self.rng,
        )
        if outcome.placement is None:
            return None
        return (outcome.placement.id, outcome.token)

    @rule(placement=placements)
    def beacon(self, placement):
        if placement is not None:
            events.record_beacon(token=placement[1], now=self.now)

    @rule(placement=placements)
    def click(self, placement):
        if placement is not None:
            events.record_click(token=placement[1], now=self.now)

    @rule(placement=placements)
    def settlement_event(self, placement):
        p = self.placement(placement[0]) if placement is not None else None
        if p is None:
            return
        item = events.EventInput(
            tx_hash=self.next_tx(),
            network=p.network,
            resource_url=PAID,
            resource_description="",
            resource_mime_type="",
            payer=p.payer,
            settled_amount=10_000,
            campaign_ref=str(p.campaign_id),
            impression_token=placement[1],
            occurred_at=self.now,
        )
        self.sent_events.append(item)
        for event_id in events.ingest_events(
            facilitator_id=self.facilitator.id, items=[item], now=self.now
        ):
            events.process_event(event_id=event_id, now=self.now)

    @rule(placement=placements, with_tx=st.booleans())
    def pay_for_recommended(self, placement, with_tx):
        """The payer pays for the recommended resource: a possible conversion."""
        p = self.placement(placement[0]) if placement is not None else None
        if p is None:
            return
        campaign_services.match_settlement(
            facilitator_id=self.facilitator.id,
            settlement=settlement(p.conversion_resource, p.payer, network=p.network),
            settled_amount=10_000,
            tx_hash=self.next_tx() if with_tx else "",
            now=self.now,
            rng=self.rng,
        )

    @rule(placement=placements)
    def conversion_report(self, placement):
        p = self.placement(placement[0]) if placement is not None else None
        if p is None:
            return
        report = billing.ConversionInput(
            original_tx_hash=p.original_tx_hash or self.next_tx(),
            conversion_tx_hash=self.next_tx(),
            network=p.network,
            payer=p.payer,
            resource_url=p.conversion_resource,
            settled_amount=10_000,
            occurred_at=self.now,
            impression_token=placement[1],
        )
        self.reports.append(report)
        billing.report_conversion(facilitator_id=self.facilitator.id, report=report, now=self.now)

    @rule(data=st.data())
    def replay(self, data):
        """Anything sent before, sent again: must change nothing."""
        if self.sent_events and data.draw(st.booleans()):
            item = data.draw(st.sampled_from(self.sent_events))
            for event_id in events.ingest_events(
                facilitator_id=self.facilitator.id, items=[item], now=self.now
            ):
                events.process_event(event_id=event_id, now=self.now)
        elif self.reports:
            report = data.draw(st.sampled_from(self.reports))
            billing.report_conversion(
                facilitator_id=self.facilitator.id, report=report, now=self.now
            )

    # --- time ------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 30, 300, 900, 3600, 6 * 3600]))
    def time_passes(self, seconds):
        self.now += dt.timedelta(seconds=seconds)

    @rule()
    def background_work(self):
        billing.attribute_pending(now=self.now)
        billing.release_expired_holds(now=self.now)

    @rule()
    def journal_drained(self):
        if budget.enabled():
            journal.drain()

    @rule()
    def grants_topped_up_and_reaped(self):
        if budget.enabled():
            for campaign in self.campaigns:
                budget.store().redis.sadd(budget.store().key("refill"), str(campaign.pk))
            grants.top_up(now=self.now)
            grants.reap(now=self.now)

    @rule()
    def redis_flushed(self):
        """Redis loses everything: grants, counts and the journal not yet written."""
        if budget.enabled():
            self._flush_keys()

    @rule()
    def reconcile(self):
        assert billing.reconcile(now=self.now).mismatches == []

    # --- what must always hold -------------------------------------------------------------

    @invariant()
    def books_are_exact_and_within_budget(self):
        if not hasattr(self, "campaigns"):
            return
        for campaign in Campaign.objects.filter(pk__in=[c.pk for c in self.campaigns]):
            charges = Charge.objects.filter(campaign=campaign)
            ledger = charges.aggregate(total=Sum("amount_millis"))["total"] or 0
            assert campaign.spent_millis == ledger
            holds = (
                Placement.objects.filter(campaign=campaign).aggregate(total=Sum("hold_millis"))[
                    "total"
                ]
                or 0
            )
            # Budget lent to Redis and not yet placed is held too.
            lent = grants.outstanding_by_campaign().get(campaign.pk, 0)
            assert campaign.held_millis == holds + lent
            assert campaign.spent_millis + campaign.held_millis <= campaign.budget_total * 1000
            for day_total in charges.values("day").annotate(total=Sum("amount_millis")):
                assert day_total["total"] <= campaign.budget_daily * 1000
        for placement in Placement.objects.filter(billed_millis__gt=0):
            billed = Charge.objects.filter(placement=placement).aggregate(
                total=Sum("amount_millis")
            )["total"]
            assert billed == placement.billed_millis <= placement.price_millis


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db
def test_billing_state_machine():
    run_state_machine_as_test(
        BillingMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
