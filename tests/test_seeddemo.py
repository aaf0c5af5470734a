"""`seeddemo --demo-accounts`: the demo sign-ins exist, work, survive re-runs, and are
refused on an install with a production SECRET_KEY."""

import io

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts import selectors
from campaigns.management.commands.seeddemo import (
    DEMO_ADVERTISER,
    DEMO_ADVERTISER_USER,
    DEMO_OPERATOR,
)
from campaigns.models import Advertiser

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seeddemo", *args, stdout=out)
    return out.getvalue()


def test_without_the_flag_no_sign_in_is_created():
    summary = _seed()
    assert not get_user_model().objects.exists()
    assert "password" not in summary


def test_demo_accounts_sign_in_as_operator_and_as_the_demo_advertiser():
    _seed("--demo-accounts")
    # A second run (every `make run`) changes nothing and prints the same sign-ins.
    summary = _seed("--demo-accounts", "--base-url", "http://127.0.0.1:8123")
    assert get_user_model().objects.count() == 2

    operator = authenticate(username=DEMO_OPERATOR[0], password=DEMO_OPERATOR[1])
    assert operator is not None and operator.is_staff
    assert selectors.tenant_of(operator).is_operator

    person = authenticate(username=DEMO_ADVERTISER_USER[0], password=DEMO_ADVERTISER_USER[1])
    assert person is not None and person.is_staff and not person.is_superuser
    tenant = selectors.tenant_of(person)
    assert tenant.advertiser_id == Advertiser.objects.get(name=DEMO_ADVERTISER).id

    assert "http://127.0.0.1:8123/admin/" in summary
    for username, password in (DEMO_OPERATOR, DEMO_ADVERTISER_USER):
        assert f"{username} / {password}" in summary


def test_a_rerun_restores_a_changed_demo_password():
    _seed("--demo-accounts")
    user = get_user_model().objects.get(username=DEMO_OPERATOR[0])
    user.set_password("something-else")
    user.save()
    _seed("--demo-accounts")
    assert authenticate(username=DEMO_OPERATOR[0], password=DEMO_OPERATOR[1]) is not None


def test_demo_accounts_are_refused_with_a_production_secret_key(settings):
    settings.SECRET_KEY_FROM_ENVIRONMENT = True
    with pytest.raises(CommandError, match="SECRET_KEY"):
        _seed("--demo-accounts")
    assert not get_user_model().objects.exists()
