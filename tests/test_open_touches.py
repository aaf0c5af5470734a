"""campaigns.selectors.open_touches: which settlements may be a conversion, by one index
probe per (payer, network, conversion key), whatever the size of the placement table."""

import copy
import datetime as dt
import json
import uuid

import pytest
from django.db import connection
from django.utils import timezone

from campaigns import selectors
from campaigns.models import MatchRequest, Placement
from campaigns.services import conversion_key
from tests.factories import CampaignFactory, evm_address
from tests.support.journal import written

PAID = "https://api.example.com/v1/quote"
RECOMMENDED = "https://weather.example.net/v1/forecast"
NETWORK = "eip155:8453"


@pytest.fixture(autouse=True)
def campaign(db):
    """The one campaign every match here places: it recommends RECOMMENDED to payers of PAID."""
    return CampaignFactory(rec_resource_url=RECOMMENDED, target_url_patterns=[PAID])


def placed(facilitator_client, payer: str) -> Placement:
    body = {
        "resourceUrl": PAID,
        "network": NETWORK,
        "payerWallet": payer,
        "settledAmount": "10000",
    }
    assert facilitator_client.post("/v1/match", body, format="json").json()["matched"]
    written()
    return Placement.objects.get(payer=payer)


def copies(template: Placement, count: int) -> None:
    """`count` more open placements like `template`, each for a payer of its own."""
    requests = []
    for n in range(count):
        request = copy.copy(template.match_request)
        request.pk, request.uid, request.payer = None, uuid.uuid4(), evm_address(0xB000000 + n)
        requests.append(request)
    requests = MatchRequest.objects.bulk_create(requests)
    rows = []
    for request in requests:
        row = copy.copy(template)
        row.pk, row.match_request, row.payer = uuid.uuid4(), request, request.payer
        rows.append(row)
    Placement.objects.bulk_create(rows)


# PostgreSQL's own query, and the ORM one any other database (SQLite, the quick start) uses.
WAYS = [selectors.open_touches, selectors._open_touches_portable]


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("open_touches", WAYS, ids=["postgresql", "portable"])
def test_only_a_placement_still_open_for_attribution_is_a_touch(facilitator_client, open_touches):
    open_one = placed(facilitator_client, evm_address(1))
    closed = placed(facilitator_client, evm_address(2))
    Placement.objects.filter(pk=closed.pk).update(
        attribution_deadline=timezone.now() - dt.timedelta(minutes=1)
    )
    key = conversion_key(RECOMMENDED)
    asked = {
        (open_one.payer, NETWORK, key),
        (open_one.payer, "eip155:1", key),  # another network
        (open_one.payer, NETWORK, conversion_key(PAID)),  # another resource
        (closed.payer, NETWORK, key),  # its window closed before `since`
        (evm_address(3), NETWORK, key),  # never recommended anything
    }
    assert open_touches(asked, timezone.now()) == {(open_one.payer, NETWORK, key)}
    # Asked as of a moment inside the closed one's window, both are touches.
    earlier = timezone.now() - dt.timedelta(minutes=2)
    assert open_touches(asked, earlier) == {
        (open_one.payer, NETWORK, key),
        (closed.payer, NETWORK, key),
    }


def relations(plan: dict) -> list[tuple[str, str]]:
    found = [(plan["Node Type"], plan.get("Relation Name", ""))]
    for child in plan.get("Plans", []):
        found += relations(child)
    return found


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_full_batch_of_triples_probes_the_index_instead_of_reading_every_open_placement(
    facilitator_client,
):
    # Every placement here is open for attribution, so the deadline filter passes them all:
    # a plan that reads the table (a hash join over it) costs the whole table per batch.
    copies(placed(facilitator_client, evm_address(1)), 3000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE campaigns_placement")
        unknown = [evm_address(0xC000000 + n) for n in range(selectors.TOUCH_PROBES)]
        cursor.execute(
            "EXPLAIN (FORMAT JSON) " + selectors.OPEN_TOUCH_SQL,
            [
                json.dumps([[payer, NETWORK, conversion_key(RECOMMENDED)] for payer in unknown]),
                selectors.touch_horizon(timezone.now()),
                timezone.now(),
            ],
        )
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    nodes = relations(plan[0]["Plan"])
    on_placements = [kind for kind, relation in nodes if relation == Placement._meta.db_table]
    assert on_placements, nodes
    assert set(on_placements) <= {"Index Scan", "Index Only Scan"}, nodes


@pytest.mark.postgres
@pytest.mark.django_db
@pytest.mark.parametrize("open_touches", WAYS, ids=["postgresql", "portable"])
def test_triples_beyond_one_query_are_all_asked(facilitator_client, open_touches):
    touch = placed(facilitator_client, evm_address(0xFFFFFF))
    key = conversion_key(RECOMMENDED)
    # More triples than one query takes, the touch sorting last of them all.
    asked = {(evm_address(0x100 + n), NETWORK, key) for n in range(selectors.TOUCH_PROBES + 50)}
    asked.add((touch.payer, NETWORK, key))
    assert open_touches(asked, timezone.now()) == {(touch.payer, NETWORK, key)}


def history(template: Placement, count: int, days_ago: int) -> None:
    """`count` placements like `template`, for the same payer, matched `days_ago` days ago
    with a half-hour window: closed long since."""
    matched_at = timezone.now() - dt.timedelta(days=days_ago)
    requests = []
    for _ in range(count):
        request = copy.copy(template.match_request)
        request.pk, request.uid, request.received_at = None, uuid.uuid4(), matched_at
        requests.append(request)
    requests = MatchRequest.objects.bulk_create(requests)
    rows = []
    for request in requests:
        row = copy.copy(template)
        row.pk, row.match_request, row.matched_at = uuid.uuid4(), request, matched_at
        row.attribution_deadline = matched_at + dt.timedelta(minutes=30)
        rows.append(row)
    Placement.objects.bulk_create(rows)


def rows_read_and_dropped(plan: dict) -> int:
    """Rows a plan's nodes read and then dropped by a filter (EXPLAIN ANALYZE)."""
    dropped = plan.get("Rows Removed by Filter", 0)
    return dropped + sum(rows_read_and_dropped(child) for child in plan.get("Plans", []))


def analyzed(sql: str, params: list) -> dict:
    """The executed plan, with the index the lookups are meant to use (no table scans)."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return plan[0]["Plan"]


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_payers_placements_older_than_the_longest_window_are_not_read(facilitator_client):
    """A busy payer accumulates placements for the same resource; those matched before the
    longest attribution window cannot be open and stay out of both conversion lookups."""
    from billing.services import _touches

    recent = placed(facilitator_client, evm_address(1))
    history(recent, 200, days_ago=31)
    key = conversion_key(RECOMMENDED)
    now = timezone.now()
    probe = analyzed(
        selectors.OPEN_TOUCH_SQL,
        [json.dumps([[recent.payer, NETWORK, key]]), selectors.touch_horizon(now), now],
    )
    assert rows_read_and_dropped(probe) == 0

    later = now + dt.timedelta(minutes=1)
    touches = _touches(payer=recent.payer, network=NETWORK, resource_url=RECOMMENDED, at=later)
    assert list(touches) == [recent]
    sql, params = touches.query.sql_with_params()
    assert rows_read_and_dropped(analyzed(sql, list(params))) == 0


@pytest.mark.django_db
def test_a_campaign_window_past_the_longest_is_refused_by_the_database():
    from django.db import IntegrityError, transaction

    from campaigns.models import MAX_ATTRIBUTION_WINDOW_SECONDS

    campaign = CampaignFactory(attribution_window_seconds=MAX_ATTRIBUTION_WINDOW_SECONDS)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(campaign).objects.filter(pk=campaign.pk).update(
            attribution_window_seconds=MAX_ATTRIBUTION_WINDOW_SECONDS + 1
        )
