"""`make test-fuzz`: schemathesis against /v1/schema, every operation, through the WSGI app.

Each operation is called with a key that may use it (so the fuzzing reaches the views,
not just the permission check): a facilitator key for match, events and conversions, an
operator key for everything else, and an advertiser key again for the campaign endpoints.
Checks: no 5xx, every status is documented, every response matches its schema.
"""

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis import checks

from adnet.wsgi import application
from facilitators import services as facilitator_services
from tests import factories

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.response_schema_conformance,
]
FACILITATOR_PATHS = ("/v1/match", "/v1/events", "/v1/conversions")
FUZZ_SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same cases on every CI run; a failure reproduces
)


# Loaded at collection (the schema view needs no database), so that every operation is a
# test of its own. (schemathesis.pytest.from_fixture does not run under pytest 9.)
schema = schemathesis.openapi.from_wsgi("/v1/schema", application)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Called as a plain WSGI app, Django would close the test's database connection at the
    end of every request; its own test client disconnects the same handler."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def keys(db) -> dict[str, str]:
    facilitator = factories.FacilitatorFactory()
    campaign = factories.CampaignFactory()
    return {
        "operator": facilitator_services.issue_operator_key(name="fuzz").api_key,
        "facilitator": facilitator_services.issue_facilitator_key(
            facilitator_id=facilitator.id
        ).api_key,
        "advertiser": facilitator_services.issue_advertiser_key(
            advertiser_id=campaign.advertiser_id
        ).api_key,
    }


def _call(case, key: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {key}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation(case, keys):
    kind = "facilitator" if case.operation.path in FACILITATOR_PATHS else "operator"
    _call(case, keys[kind])


@schema.include(path_regex=r"^/v1/(campaigns|advertisers)").parametrize()
@FUZZ_SETTINGS
def test_campaign_operations_as_advertiser(case, keys):
    _call(case, keys["advertiser"])
