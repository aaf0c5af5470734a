"""Writes for facilitators and API keys: registering, issuing, revoking, recording use."""

import datetime as dt
import time
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q

from adnet.core import clock
from facilitators import keys
from facilitators.errors import FacilitatorNameTaken, FacilitatorNotFound
from facilitators.models import ApiKey, Facilitator
from facilitators.selectors import forget_cached_keys

# Recording every use would be a write per request; a minute's precision is what people read.
LAST_USED_PRECISION = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedKey:
    """A freshly issued key. `api_key` exists only here: the database keeps its hash."""

    record: ApiKey
    api_key: str


def register_facilitator(*, name: str) -> Facilitator:
    try:
        with transaction.atomic():
            return Facilitator.objects.create(name=name.strip())
    except IntegrityError as exc:
        raise FacilitatorNameTaken() from exc


def _issue(
    *,
    kind: str,
    name: str,
    facilitator: Facilitator | None = None,
    advertiser_id: uuid.UUID | None = None,
) -> IssuedKey:
    raw, key_id = keys.generate(kind)
    record = ApiKey.objects.create(
        kind=kind,
        key_id=key_id,
        secret_hash=keys.digest(raw),
        name=name,
        facilitator=facilitator,
        advertiser_id=advertiser_id,
    )
    return IssuedKey(record=record, api_key=raw)


def issue_facilitator_key(*, facilitator_id: uuid.UUID, name: str = "") -> IssuedKey:
    facilitator = Facilitator.objects.filter(pk=facilitator_id).first()
    if facilitator is None:
        raise FacilitatorNotFound()
    return _issue(
        kind=ApiKey.Kind.FACILITATOR, name=name or facilitator.name, facilitator=facilitator
    )


def issue_operator_key(*, name: str) -> IssuedKey:
    return _issue(kind=ApiKey.Kind.OPERATOR, name=name)


def issue_advertiser_key(*, advertiser_id: uuid.UUID, name: str = "") -> IssuedKey:
    """Callers must have checked that the advertiser exists (see campaigns.services)."""
    return _issue(kind=ApiKey.Kind.ADVERTISER, name=name, advertiser_id=advertiser_id)


def register_facilitator_with_key(*, name: str) -> IssuedKey:
    with transaction.atomic():
        facilitator = register_facilitator(name=name)
        return issue_facilitator_key(facilitator_id=facilitator.id, name=f"{name} key")


def revoke_key(*, key_pk: int) -> bool:
    """Revoke a key; True if this call revoked it. This process refuses it from the next
    request on, every other process within API_KEY_CACHE_SECONDS."""
    revoked = bool(
        ApiKey.objects.filter(pk=key_pk, revoked_at__isnull=True).update(revoked_at=clock.now())
    )
    forget_cached_keys(key_pk=key_pk)
    return revoked


def set_facilitator_status(*, facilitator_id: uuid.UUID, status: str) -> bool:
    """Suspend or reinstate a facilitator; its keys stop (or resume) working like revoked keys."""
    changed = bool(
        Facilitator.objects.filter(pk=facilitator_id).exclude(status=status).update(status=status)
    )
    for key_pk in ApiKey.objects.filter(facilitator_id=facilitator_id).values_list("pk", flat=True):
        forget_cached_keys(key_pk=key_pk)
    return changed


_last_recorded: dict[int, float] = {}


def record_key_use(*, key_pk: int) -> None:
    """Note that a key was used, at most once a minute per key and process: a write per
    request would put the database back on the hot path the key cache took it off."""
    now = time.monotonic()
    if now - _last_recorded.get(key_pk, -LAST_USED_PRECISION.total_seconds()) < (
        LAST_USED_PRECISION.total_seconds()
    ):
        return
    _last_recorded[key_pk] = now
    moment = clock.now()
    ApiKey.objects.filter(pk=key_pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=moment - LAST_USED_PRECISION)
    ).update(last_used_at=moment)
