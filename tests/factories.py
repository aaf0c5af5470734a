"""factory_boy factories for the models tests need."""

import datetime as dt

import factory
from django.utils import timezone

from campaigns.matching import patterns
from campaigns.matching.engine import Settlement
from campaigns.models import Advertiser, Campaign
from facilitators.models import Facilitator


def evm_address(n: int) -> str:
    return "0x" + f"{n:040x}"


def settlement(
    url: str,
    payer: str,
    *,
    network: str = "eip155:8453",
    transport: str = "http",
    description: str = "",
) -> Settlement:
    """What matching is asked about: this payer's settlement of a payment for `url`."""
    return Settlement(
        resource_url=url,
        resource_key=patterns.resource_key(url),
        description=description,
        network=network,
        payer=payer,
        transport=transport,
    )


class FacilitatorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facilitator

    name = factory.Sequence(lambda n: f"facilitator-{n}")


class AdvertiserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Advertiser

    name = factory.Sequence(lambda n: f"Advertiser {n}")
    wallet_address = factory.Sequence(lambda n: evm_address(0xAD000000 + n))
    network = "eip155:8453"


class CampaignFactory(factory.django.DjangoModelFactory):
    """An active CPA campaign that matches everything, unless told otherwise.

    Paced `asap` so that budget tests are not also pacing tests; pacing has its own.
    """

    class Meta:
        model = Campaign

    advertiser = factory.SubFactory(AdvertiserFactory)
    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = Campaign.Status.ACTIVE
    bid_strategy = Campaign.BidStrategy.CPA
    pacing = Campaign.Pacing.ASAP
    budget_total = 1_000_000_000
    budget_daily = 100_000_000
    max_bid_amount = 10_000
    schedule_start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(hours=1))
    rec_resource_url = factory.Sequence(lambda n: f"https://sponsor{n}.example.com/v1/tool")
    rec_description = "A useful paid API"
    rec_sponsor_name = factory.LazyAttribute(lambda o: o.advertiser.name)
