"""The columns of each report, shared by its page and its CSV export.

A column turns one record into the text a person reads, and optionally a link. The page
shows that text (linked); the CSV writes the same text, plus the link in a column of its
own. So a page and its export agree cell for cell by construction.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reports import formatting as fmt


@dataclass(frozen=True)
class Column:
    header: str
    text: Callable[[dict], str]
    href: Callable[[dict], str] | None = None
    numeric: bool = False
    # Long identifiers (hashes, addresses, ids): shortened on the page, whole in its tooltip.
    mono: bool = False


@dataclass(frozen=True)
class Cell:
    text: str
    href: str
    numeric: bool
    mono: bool


class Table:
    def __init__(self, columns: Sequence[Column]):
        self.columns = tuple(columns)

    @property
    def headers(self) -> list[str]:
        return [column.header for column in self.columns]

    def csv_header(self) -> list[str]:
        header = []
        for column in self.columns:
            header.append(column.header)
            if column.href:
                header.append(f"{column.header} URL")
        return header

    def csv_row(self, record: dict) -> list[str]:
        row = []
        for column in self.columns:
            row.append(column.text(record))
            if column.href:
                row.append(column.href(record))
        return row

    def cells(self, record: dict) -> list[Cell]:
        return [
            Cell(
                text=column.text(record),
                href=column.href(record) if column.href else "",
                numeric=column.numeric,
                mono=column.mono,
            )
            for column in self.columns
        ]


def _text(key: str) -> Callable[[dict], str]:
    return lambda record: "" if record[key] is None else str(record[key])


def _count(key: str) -> Column:
    return Column(key.replace("_", " ").capitalize(), _text(key), numeric=True)


def _when(key: str, header: str) -> Column:
    return Column(header, lambda record: fmt.moment(record[key]))


def _money(key: str, label: str) -> list[Column]:
    return [
        Column(f"{label} (atomic)", lambda record: fmt.atomic(record[key]), numeric=True),
        Column(f"{label} (USDC)", lambda record: fmt.usdc(record[key]), numeric=True),
    ]


def _rate(key: str, header: str) -> Column:
    # No rate (nothing to divide by) is an empty cell, on the page and in the CSV alike.
    return Column(
        header,
        lambda record: "" if record[key] is None else fmt.percent(record[key]),
        numeric=True,
    )


def _words(key: str, header: str, vocabulary: dict[str, str]) -> Column:
    return Column(header, lambda record: fmt.words(vocabulary, record[key]))


DAYS = Table(
    [
        Column("Day", lambda record: record["day"].isoformat()),
        _count("match_requests"),
        Column("Answered", _text("matches_answered"), numeric=True),
        Column("Unanswered", _text("matches_unanswered"), numeric=True),
        _rate("fill_rate", "Fill rate"),
        _count("placements"),
        _count("deliveries"),
        _count("impressions"),
        _count("clicks"),
        _count("conversions"),
        _count("settlement_events"),
        _count("invalid_traffic"),
        *_money("billed_millis", "Billed"),
        *_money("unbilled_millis", "Unbilled"),
    ]
)

CAMPAIGNS = Table(
    [
        Column("Campaign", _text("campaign_name")),
        Column("Advertiser", _text("advertiser_name")),
        _count("placements"),
        _count("impressions"),
        _count("clicks"),
        _count("conversions"),
        *_money("billed_millis", "Billed"),
    ]
)

FACILITATORS = Table(
    [
        Column("Facilitator", _text("facilitator_name")),
        _count("match_requests"),
        Column("Answered", _text("matches_answered"), numeric=True),
        _rate("fill_rate", "Fill rate"),
        _count("placements"),
        _count("deliveries"),
        _rate("delivery_rate", "Delivery rate"),
        _count("impressions"),
        _count("clicks"),
        _count("conversions"),
        _count("settlement_events"),
        _count("invalid_traffic"),
        *_money("billed_millis", "Billed"),
        *_money("unbilled_millis", "Unbilled"),
    ]
)

INVALID = Table(
    [
        _words("reason", "Reason", fmt.REASON),
        _words("source", "Source", fmt.INVALID_SOURCE),
        Column("Facilitator", _text("facilitator_name")),
        Column("Campaign", _text("campaign_name")),
        _count("count"),
    ]
)

TRAFFIC = Table(
    [
        _when("start", "Period start"),
        Column("Campaign", _text("campaign_name")),
        Column("Facilitator", _text("facilitator_name")),
        Column("Network", _text("network")),
        Column("Transport", _text("transport")),
        Column("Answered", _text("matches_answered"), numeric=True),
        Column("Unanswered", _text("matches_unanswered"), numeric=True),
        _count("placements"),
        _count("deliveries"),
        _count("impressions"),
        _count("clicks"),
        _count("conversions"),
        _count("settlement_events"),
        *_money("billed_millis", "Billed"),
        *_money("unbilled_millis", "Unbilled"),
    ]
)

CONVERSIONS = Table(
    [
        _when("converted_at", "Converted at"),
        Column("Campaign", _text("campaign_name")),
        Column("Advertiser", _text("advertiser_name")),
        Column("Facilitator", _text("facilitator_name")),
        Column("Converting facilitator", _text("converting_facilitator_name")),
        Column("Network", _text("network")),
        Column("Payer", _text("payer"), mono=True),
        Column(
            "Original tx",
            _text("original_tx_hash"),
            href=_text("original_tx_url"),
            mono=True,
        ),
        Column(
            "Conversion tx",
            _text("conversion_tx_hash"),
            href=_text("conversion_tx_url"),
            mono=True,
        ),
        _when("matched_at", "Matched at"),
        Column("Time to convert", lambda r: fmt.duration(r["seconds_to_convert"]), numeric=True),
        _words("status", "Status", fmt.CONVERSION_STATUS),
        _words("source", "Source", fmt.CONVERSION_SOURCE),
        *_money("billed_millis", "Billed"),
        Column("Placement", _text("placement_id"), mono=True),
    ]
)

PLACEMENTS = Table(
    [
        _when("matched_at", "Matched at"),
        Column("Placement", _text("id"), mono=True),
        Column("Campaign", _text("campaign_name")),
        Column("Facilitator", _text("facilitator_name")),
        Column("Network", _text("network")),
        Column("Transport", _text("transport")),
        Column("Payer", _text("payer"), mono=True),
        Column("Strategy", _text("bid_strategy")),
        _words("state", "State", fmt.PLACEMENT_STATE),
        _when("delivered_at", "Delivered at"),
        _when("impression_at", "Impression at"),
        _when("clicked_at", "Clicked at"),
        *_money("price_millis", "Price"),
        *_money("billed_millis", "Billed"),
    ]
)
