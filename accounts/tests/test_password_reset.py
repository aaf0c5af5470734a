"""Password reset: a handful of mails per address and per client, and the same answer
whether a mail was sent, throttled, or no account has the address."""

import uuid
from types import SimpleNamespace

import django_ratelimit.core
import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def fresh_counters(settings, monkeypatch):
    """Counters of this test only (a cache key prefix no other run shares), on a clock that
    stands still so no window ends between the requests."""
    cache = dict(settings.CACHES["default"])
    cache["KEY_PREFIX"] = f"reset-test-{uuid.uuid4().hex}"
    settings.CACHES = {"default": cache}
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: 1.8e9 + 0.4))


def _user(name: str):
    return get_user_model().objects.create_user(
        name, email=f"{name}@example.com", password="pw-long-enough-1", is_staff=True
    )


def test_one_address_gets_a_handful_of_mails_and_every_answer_is_the_same(
    client, fresh_counters, mailoutbox
):
    _user("alice")
    url, done = reverse("admin_password_reset"), reverse("password_reset_done")
    answers = {
        (response.status_code, response["Location"])
        for response in (
            client.post(url, {"email": "Alice@Example.com" if n % 2 else "alice@example.com"})
            for n in range(25)
        )
    }
    assert answers == {(302, done)}
    assert 1 <= len(mailoutbox) <= 3
    # An address without an account gets the very same answer.
    unknown = client.post(url, {"email": "nobody@example.com"})
    assert (unknown.status_code, unknown["Location"]) == (302, done)


def test_one_client_gets_a_handful_of_mails_across_addresses(client, fresh_counters, mailoutbox):
    for n in range(15):
        _user(f"user{n}")
    url = reverse("admin_password_reset")
    for n in range(15):
        response = client.post(url, {"email": f"user{n}@example.com"})
        assert response.status_code == 302
    sent = len(mailoutbox)
    assert 1 <= sent <= 10
    # Another client is not held back by this one.
    other = client.post(url, {"email": "user14@example.com"}, REMOTE_ADDR="192.0.2.7")
    assert other.status_code == 302
    assert len(mailoutbox) == sent + 1


def test_no_mail_when_the_counters_cannot_be_read(client, fresh_counters, mailoutbox, monkeypatch):
    _user("bob")

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr("accounts.password_reset.is_ratelimited", broken)
    response = client.post(reverse("admin_password_reset"), {"email": "bob@example.com"})
    assert (response.status_code, response["Location"]) == (302, reverse("password_reset_done"))
    assert mailoutbox == []
