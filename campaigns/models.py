"""Advertisers, campaigns with their budget counters, placements and observed settlements."""

import uuid

from django.db import models
from django.db.models import F, Q

from adnet.core.money import MILLIS_PER_ATOMIC


class Advertiser(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    # Normalised (EVM lower-cased) so it compares equal to normalised payers.
    wallet_address = models.CharField(max_length=128)
    network = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.name


# The longest attribution window a campaign may have. Every placement's attribution
# deadline is then at most this long after its match, which bounds the conversion lookups
# (selectors.open_touches, billing's last touch) to recent placements: a payer's older
# ones are never read again, however many there are.
MAX_ATTRIBUTION_WINDOW_SECONDS = 30 * 24 * 3600


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        COMPLETED = "completed", "Completed"
        EXHAUSTED = "exhausted", "Exhausted"

    class BidStrategy(models.TextChoices):
        CPM = "cpm", "Per thousand impressions"
        CPC = "cpc", "Per click"
        CPA = "cpa", "Per conversion"
        HYBRID = "hybrid", "CPM on http, CPA on mcp/a2a"

    class Pacing(models.TextChoices):
        EVEN = "even", "Even over the UTC day"
        ASAP = "asap", "As fast as possible"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    advertiser = models.ForeignKey(Advertiser, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    bid_strategy = models.CharField(
        max_length=8, choices=BidStrategy.choices, default=BidStrategy.CPA
    )
    pacing = models.CharField(max_length=8, choices=Pacing.choices, default=Pacing.EVEN)

    # Atomic units of the asset, as the advertiser gave them.
    budget_total = models.BigIntegerField()
    budget_daily = models.BigIntegerField()
    max_bid_amount = models.BigIntegerField()

    attribution_window_seconds = models.PositiveIntegerField(default=1800)
    frequency_cap = models.PositiveIntegerField(null=True, blank=True)

    target_categories = models.JSONField(default=list, blank=True)
    target_networks = models.JSONField(default=list, blank=True)
    target_transports = models.JSONField(default=list, blank=True)
    target_url_patterns = models.JSONField(default=list, blank=True)

    schedule_start = models.DateTimeField()
    schedule_end = models.DateTimeField(null=True, blank=True)

    rec_resource_url = models.URLField(max_length=2048)
    rec_description = models.CharField(max_length=1000)
    rec_sponsor_name = models.CharField(max_length=200)
    rec_bazaar_id = models.CharField(max_length=200, blank=True, default="")
    rec_price = models.BigIntegerField(null=True, blank=True)
    rec_currency = models.CharField(max_length=32, blank=True, default="")

    # Budget counters in millis (1/1000 atomic unit). spent = charges, held = open holds.
    # day_* count what was held or charged for placements matched on the UTC day `day`;
    # they restart at zero with the first match of a new day.
    spent_millis = models.BigIntegerField(default=0)
    held_millis = models.BigIntegerField(default=0)
    day = models.DateField(null=True, blank=True)
    day_spent_millis = models.BigIntegerField(default=0)
    day_held_millis = models.BigIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "schedule_start"])]
        constraints = [
            models.CheckConstraint(
                name="campaign_amounts_positive",
                condition=Q(budget_total__gt=0, budget_daily__gt=0, max_bid_amount__gt=0),
            ),
            models.CheckConstraint(
                name="campaign_daily_within_total", condition=Q(budget_daily__lte=F("budget_total"))
            ),
            models.CheckConstraint(
                name="campaign_counters_non_negative",
                condition=Q(
                    spent_millis__gte=0,
                    held_millis__gte=0,
                    day_spent_millis__gte=0,
                    day_held_millis__gte=0,
                ),
            ),
            # The budget invariant, held by the database itself as a last line of defence:
            # no statement can commit charges plus holds above the budget.
            models.CheckConstraint(
                name="campaign_committed_within_total",
                condition=Q(
                    spent_millis__lte=F("budget_total") * MILLIS_PER_ATOMIC - F("held_millis")
                ),
            ),
            models.CheckConstraint(
                name="campaign_day_committed_within_daily",
                condition=Q(
                    day_spent_millis__lte=F("budget_daily") * MILLIS_PER_ATOMIC
                    - F("day_held_millis")
                ),
            ),
            models.CheckConstraint(
                name="campaign_attribution_window_bounded",
                condition=Q(attribution_window_seconds__lte=MAX_ATTRIBUTION_WINDOW_SECONDS),
            ),
            models.CheckConstraint(
                name="campaign_schedule_ordered",
                condition=Q(schedule_end__isnull=True) | Q(schedule_end__gt=F("schedule_start")),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class MatchRequest(models.Model):
    """One call to /v1/match: the network's own observation of a settlement, matched or not."""

    id = models.BigAutoField(primary_key=True)
    # Chosen when the request is answered; a placement made for it has the same id. The
    # journal drain writes each request once by it (campaigns.journal).
    uid = models.UUIDField(unique=True, null=True, blank=True, editable=False)
    # No index: nothing looks requests up by facilitator (reports group by it over a time
    # range), and facilitators are suspended, never deleted (facilitators.admin).
    facilitator = models.ForeignKey(
        "facilitators.Facilitator",
        on_delete=models.PROTECT,
        related_name="match_requests",
        db_index=False,
    )
    received_at = models.DateTimeField(db_index=True)
    resource_url = models.CharField(max_length=2048)
    resource_description = models.CharField(max_length=1000, blank=True, default="")
    network = models.CharField(max_length=64)
    payer = models.CharField(max_length=128)
    # Other people's payments in any asset: up to 78 digits, so NUMERIC with no fraction.
    settled_amount = models.DecimalField(max_digits=78, decimal_places=0)
    transport = models.CharField(max_length=8)
    tx_hash = models.CharField(max_length=128, blank=True, default="")
    matched = models.BooleanField(default=False)
    # Set once this settlement has been checked as a possible conversion (billing app).
    attributed = models.BooleanField(default=False)

    class Meta:
        # Every index here is paid for by each match the journal writes: none on the payer
        # (nothing reads requests by payer; attribution finds placements by it).
        indexes = [
            models.Index(
                fields=["received_at"],
                name="matchrequest_unattributed",
                condition=models.Q(attributed=False),
            ),
        ]

    def __str__(self) -> str:
        return f"match {self.pk} {self.payer} {self.resource_url}"


class Placement(models.Model):
    """A match answered with a recommendation, holding the most it may bill until it resolves."""

    class State(models.TextChoices):
        MATCHED = "matched", "Matched"
        DELIVERED = "delivered", "Delivered"
        IMPRESSION = "impression", "Impression verified"
        CONVERTED = "converted", "Converted"
        EXPIRED = "expired", "Expired"

    class BillingEvent(models.TextChoices):
        IMPRESSION = "impression", "Verified impression"
        CLICK = "click", "Click"
        CONVERSION = "conversion", "Attributed conversion"

    OPEN_STATES = (State.MATCHED, State.DELIVERED, State.IMPRESSION)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Looked up through the (campaign, matched_at) index: no index of its own.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="placements", db_index=False
    )
    # No index, as on MatchRequest.facilitator.
    facilitator = models.ForeignKey(
        "facilitators.Facilitator",
        on_delete=models.PROTECT,
        related_name="placements",
        db_index=False,
    )
    match_request = models.OneToOneField(
        MatchRequest, on_delete=models.PROTECT, related_name="placement"
    )
    payer = models.CharField(max_length=128)
    network = models.CharField(max_length=64)
    transport = models.CharField(max_length=8)
    resource_url = models.CharField(max_length=2048)
    conversion_resource = models.CharField(max_length=2048)
    # A short digest of the conversion resource's key (patterns.resource_key), for lookups.
    conversion_key = models.CharField(max_length=32, default="")
    bid_strategy = models.CharField(max_length=8)
    billing_event = models.CharField(max_length=16, choices=BillingEvent.choices)
    # What the placement bills if its billing event arrives, and what it holds until then.
    price_millis = models.BigIntegerField()
    hold_millis = models.BigIntegerField()
    hold_day = models.DateField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.MATCHED)
    matched_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    # Each set once, by a conditional UPDATE (WHERE ... IS NULL): the first valid
    # settlement event, and the one verified impression (beacon, or event on mcp/a2a).
    delivered_at = models.DateTimeField(null=True, blank=True)
    impression_at = models.DateTimeField(null=True, blank=True)
    clicked_at = models.DateTimeField(null=True, blank=True)
    # Conversions count until attribution_deadline; the hold is kept until release_at
    # (later, for conversion-billed placements, so evidence can still arrive).
    attribution_deadline = models.DateTimeField(null=True, blank=True)
    release_at = models.DateTimeField(null=True, blank=True)
    # The settlement that carried the recommendation, once a match or event names it.
    original_tx_hash = models.CharField(max_length=128, blank=True, default="")
    # What the ledger has charged for this placement so far (the highest charge).
    billed_millis = models.BigIntegerField(default=0)

    class Meta:
        # Each index costs every match the journal writes (a fifth of a placement's insert
        # apiece), so each one here has a reader: attribution reads by payer through the one
        # with the conversion key; events, beacons and clicks find a placement by its key;
        # expired holds are found by release_at. None on state: every change of state would
        # write it again, and nothing but the admin's filter reads by state.
        indexes = [
            models.Index(fields=["campaign", "matched_at"]),
            models.Index(fields=["payer", "network", "conversion_key", "matched_at"]),
            models.Index(
                fields=["release_at"], name="placement_open_hold", condition=Q(hold_millis__gt=0)
            ),
            # Reports count each event in the period it happened (reports.services).
            models.Index(fields=["matched_at"], name="placement_matched_at"),
            models.Index(
                fields=["delivered_at"],
                name="placement_delivered_at",
                condition=Q(delivered_at__isnull=False),
            ),
            models.Index(
                fields=["impression_at"],
                name="placement_impression_at",
                condition=Q(impression_at__isnull=False),
            ),
            models.Index(
                fields=["clicked_at"],
                name="placement_clicked_at",
                condition=Q(clicked_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="placement_hold_within_price",
                condition=Q(hold_millis__gte=0, hold_millis__lte=F("price_millis")),
            ),
            # Billed at most its price in all, whatever replaces what.
            models.CheckConstraint(
                name="placement_billed_within_price",
                condition=Q(
                    billed_millis__gte=0, billed_millis__lte=F("price_millis") - F("hold_millis")
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"placement {self.pk} ({self.state})"


class PayerDailyCount(models.Model):
    """Placements of a campaign to one payer on one UTC day: the frequency-cap counter."""

    # Looked up through the unique (campaign, payer, day) index: no index of its own.
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    payer = models.CharField(max_length=128)
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "payer", "day"], name="payer_daily_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.payer} x{self.count} on {self.day}"


class TxClaim(models.Model):
    """A transaction hash and the one role it plays: the settlement that carried a
    recommendation (`original`) or the payment that converted one (`conversion`).

    The unique constraint stops a hash from converting two placements or carrying two;
    billing refuses a conversion hash equal to the placement's own original hash (a
    settlement claimed as the conversion of itself).
    """

    class Role(models.TextChoices):
        ORIGINAL = "original", "Carried a recommendation"
        CONVERSION = "conversion", "Converted a placement"

    network = models.CharField(max_length=64)
    tx_hash = models.CharField(max_length=128)
    role = models.CharField(max_length=16, choices=Role.choices)
    placement = models.ForeignKey(Placement, on_delete=models.PROTECT, related_name="+")
    claimed_at = models.DateTimeField()

    class Meta:
        constraints = [
            # One placement per role: a hash may carry one recommendation and convert one
            # (other) placement, never convert two or carry two.
            models.UniqueConstraint(fields=["network", "tx_hash", "role"], name="tx_claim_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.network} {self.tx_hash} ({self.role})"


class CatalogVersion(models.Model):
    """One row whose number changes with every change to what matching may see.

    Bumped in the same transaction as the change, so each process can keep a compiled
    snapshot of live campaigns and check it with one primary-key read.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"catalog v{self.version}"


class BudgetGrant(models.Model):
    """A slice of a campaign's budget lent to the Redis budget store (campaigns.budget).

    Granted by one conditional UPDATE that counts it in the campaign's held_millis, so
    PostgreSQL's budget invariant covers it before a single placement is made. Matching
    then spends it hold by hold in Redis; the journal drain turns what was spent into
    placement holds (`used_millis`). A closed grant's `final_millis` is the most that can
    still arrive for it; the rest has gone back to the campaign. If Redis loses the grant
    (a flush), it is closed at what was already recorded: the network under-delivers, it
    never charges past a budget.
    """

    id = models.BigAutoField(primary_key=True)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="+")
    # The Redis store's identity when granted: a flushed store has a new one.
    epoch = models.CharField(max_length=32)
    day = models.DateField()
    hold_millis = models.BigIntegerField()
    granted_millis = models.BigIntegerField()
    used_millis = models.BigIntegerField(default=0)
    final_millis = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "-id"]),
            models.Index(fields=["created_at"], name="grant_open", condition=Q(closed_at=None)),
        ]
        constraints = [
            models.CheckConstraint(
                name="grant_amounts",
                condition=Q(granted_millis__gt=0, used_millis__gte=0, hold_millis__gt=0)
                & Q(used_millis__lte=F("granted_millis")),
            ),
            models.CheckConstraint(
                name="grant_final_bounds",
                condition=Q(final_millis=None)
                | Q(final_millis__lte=F("granted_millis"), final_millis__gte=F("used_millis")),
            ),
        ]

    def __str__(self) -> str:
        return f"grant {self.pk} of {self.granted_millis} for {self.campaign_id}"

    @property
    def outstanding_millis(self) -> int:
        """Counted in the campaign's held_millis and not yet a placement's hold."""
        cap = self.granted_millis if self.final_millis is None else self.final_millis
        return cap - self.used_millis


class Deployment(models.Model):
    """This deployment's identity: one row, made with a random id on first use.

    Every journal record carries it (campaigns.journal), so records of another deployment
    that shares the Redis are set aside instead of written. A database restored from a
    backup keeps the row, and with it the identity.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    uid = models.UUIDField(default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="deployment_single")]

    def __str__(self) -> str:
        return f"deployment {self.uid}"


class JournalSetAside(models.Model):
    """A match journal record that could not be written, kept with why (a dead letter).

    The drain sets it aside and writes the rest of its batch: one bad record never stops
    delivery. The raw bytes are kept as Redis held them, for an operator to inspect.
    """

    class Reason(models.TextChoices):
        UNDECODABLE = "undecodable", "Cannot be decoded"
        UNKNOWN_VERSION = "unknown_version", "Unknown record version"
        OTHER_DEPLOYMENT = "other_deployment", "Recorded by another deployment"
        MISSING_ROW = "missing_row", "Names a facilitator or campaign the database lacks"
        REFUSED = "refused", "Refused by the database"

    entry_id = models.CharField(max_length=64)
    raw = models.BinaryField()
    reason = models.CharField(max_length=32, choices=Reason.choices)
    error = models.TextField(blank=True, default="")
    set_aside_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"journal entry {self.entry_id} ({self.reason})"


class LostPlacement(models.Model):
    """A follow-up (beacon, click, settlement event, conversion report) for a placement we
    signed but PostgreSQL never received: the network's loss, never the facilitator's.

    Such a placement was lost with a Redis that died before its journal was drained, or
    its record was set aside. It cannot bill; its budget went back when its grant was
    settled at what reached PostgreSQL (campaigns.grants). One row per placement and kind.
    """

    class Source(models.TextChoices):
        EVENT = "event", "Settlement event"
        BEACON = "beacon", "Impression beacon"
        CLICK = "click", "Click"
        CONVERSION = "conversion", "Conversion report"

    # What a follow-up for a lost placement is answered or marked with, where a reason is.
    REASON = "lost_placement"

    placement_id = models.UUIDField()
    # From the signed token (None for tokens issued before it carried the campaign).
    campaign_id = models.UUIDField(null=True, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["placement_id", "source"], name="lost_placement_once")
        ]

    def __str__(self) -> str:
        return f"lost placement {self.placement_id} ({self.source})"
