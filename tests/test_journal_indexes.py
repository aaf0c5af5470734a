"""The indexes on the tables the match journal writes, one row per match: each is paid for
by every match drained (campaigns.journal), so each must have a reader. A new one, or one
Django adds by itself for a foreign key, shows up here and has to be argued for."""

import pytest
from django.db import connection

from campaigns.models import MatchRequest, PayerDailyCount, Placement

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# (indexed columns, partial) per table, and who reads through it.
EXPECTED = {
    MatchRequest: {
        (("id",), False),  # primary key: placements and attribution name the request
        (("uid",), False),  # the journal writes each request once (ON CONFLICT (uid))
        (("received_at",), False),  # reports count requests by when they arrived
        (("received_at",), True),  # billing's attribution sweep: requests not yet checked
    },
    Placement: {
        (("id",), False),  # events, beacons and clicks name the placement
        (("match_request_id",), False),  # one placement per request (unique)
        (("campaign_id", "matched_at"), False),  # a campaign's delivery history
        (("payer", "network", "conversion_key", "matched_at"), False),  # attribution
        (("release_at",), True),  # holds to release
        (("matched_at",), False),  # reports: placements in a period
        (("delivered_at",), True),  # reports: deliveries in a period
        (("impression_at",), True),  # reports: impressions in a period
        (("clicked_at",), True),  # reports: clicks in a period
    },
    PayerDailyCount: {
        (("id",), False),  # primary key
        (("campaign_id", "payer", "day"), False),  # the frequency-cap counter (unique)
    },
}


def indexes(table: str) -> set[tuple[tuple[str, ...], bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT array_agg(a.attname ORDER BY k.ordinality), i.indpred IS NOT NULL
            FROM pg_index i
            JOIN pg_class t ON t.oid = i.indrelid
            CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ordinality)
            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
            WHERE t.relname = %s
            GROUP BY i.indexrelid, i.indpred IS NOT NULL
            """,
            [table],
        )
        return {(tuple(columns), partial) for columns, partial in cursor.fetchall()}


@pytest.mark.parametrize("model", list(EXPECTED), ids=lambda model: model.__name__)
def test_each_index_on_a_journal_table_has_a_reader(model):
    assert indexes(model._meta.db_table) == EXPECTED[model]
