"""Who the signed-in person is to the network (operator or one advertiser), and their reads."""

import uuid
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import AdvertiserMembership
from campaigns.models import Advertiser, Campaign


@dataclass(frozen=True)
class Tenant:
    """Operators (superusers) see everything; an advertiser user sees one advertiser;
    anyone else (staff with no advertiser) sees no campaign at all."""

    is_operator: bool
    advertiser_id: uuid.UUID | None

    @property
    def is_advertiser(self) -> bool:
        return self.advertiser_id is not None

    def owns(self, advertiser_id: uuid.UUID | None) -> bool:
        return self.is_operator or (self.is_advertiser and advertiser_id == self.advertiser_id)


def tenant_of(user) -> Tenant:
    """Loaded once per request: the admin asks many times while building one page."""
    cached = getattr(user, "_adnet_tenant", None)
    if cached is not None:
        return cached
    if not user.is_authenticated or not user.is_active:
        tenant = Tenant(is_operator=False, advertiser_id=None)
    elif user.is_superuser:
        tenant = Tenant(is_operator=True, advertiser_id=None)
    else:
        advertiser_id = (
            AdvertiserMembership.objects.filter(user_id=user.pk)
            .values_list("advertiser_id", flat=True)
            .first()
        )
        tenant = Tenant(is_operator=False, advertiser_id=advertiser_id)
    user._adnet_tenant = tenant
    return tenant


def campaigns_of(tenant: Tenant) -> QuerySet[Campaign]:
    qs = Campaign.objects.select_related("advertiser")
    if tenant.is_operator:
        return qs
    if tenant.is_advertiser:
        return qs.filter(advertiser_id=tenant.advertiser_id)
    return qs.none()


def advertisers_of(tenant: Tenant) -> QuerySet[Advertiser]:
    if tenant.is_operator:
        return Advertiser.objects.all()
    if tenant.is_advertiser:
        return Advertiser.objects.filter(pk=tenant.advertiser_id)
    return Advertiser.objects.none()
