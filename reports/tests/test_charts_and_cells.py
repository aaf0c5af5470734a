"""Charts that do not add up unrelated measures, say when they are empty, and CSV cells
that are empty when there is no value; code names shown as words."""

import csv
import datetime as dt
import io
import re

import pytest

from reports import charts, exports, formatting, tables

BAR = re.compile(r'<rect x="([^"]+)" y="([^"]+)" width="([^"]+)" height="([^"]+)" fill="[^"]+">')


def test_grouped_bars_stand_side_by_side_on_one_scale():
    funnel = [("placements", [36]), ("impressions", [30]), ("clicks", [6]), ("conversions", [4])]
    svg = charts.bar_chart(["12-07"], funnel, title="Funnel", stacked=False)
    bars = [tuple(float(v) for v in match) for match in BAR.findall(svg)]
    assert len(bars) == 4
    xs = [x for x, _, _, _ in bars]
    assert xs == sorted(xs) and len(set(xs)) == 4  # side by side, in legend order
    bottoms = {round(y + h, 1) for _, y, _, h in bars}
    assert len(bottoms) == 1  # every bar stands on the axis, none on another
    heights = [h for _, _, _, h in bars]
    assert heights[0] == pytest.approx(heights[1] * 36 / 30, rel=0.01)
    # The scale is the tallest bar's (36 -> 50), not the 76 a stack would add up to.
    assert ">50</text>" in svg and ">100</text>" not in svg
    assert svg.count('class="chart-legend"') == 4
    for name, _ in funnel:
        assert f">{name}</text>" in svg


def test_an_empty_chart_says_so_with_one_zero():
    svg = charts.bar_chart(
        ["12-06", "12-07"],
        [("spend", [0, 0])],
        title="Spend",
        value_format=charts.usdc_axis,
        empty_text="No spend in this period yet.",
    )
    assert svg.count("0 USDC") == 1
    assert "No spend in this period yet." in svg
    assert "<rect x" not in svg.replace('class="chart-legend"><rect', "")


def test_usdc_axis_is_exact_and_never_repeats_a_label():
    assert charts.usdc_axis(2_500_000_000) == "2.5 USDC"
    assert charts.usdc_axis(1500) == "0.0000015 USDC"
    svg = charts.bar_chart(["a"], [("spend", [1])], title="t", value_format=charts.usdc_axis)
    labels = re.findall(r'text-anchor="end"[^>]*>([^<]+)</text>', svg)
    assert len(labels) == len(set(labels))


def test_no_value_is_an_empty_csv_cell_but_text_is_still_defused():
    day = {
        "day": dt.date(2026, 12, 7),
        "matches_answered": 0,
        "matches_unanswered": 0,
        "match_requests": 0,
        "fill_rate": None,
        **dict.fromkeys(
            [
                "placements",
                "deliveries",
                "impressions",
                "clicks",
                "conversions",
                "settlement_events",
                "invalid_traffic",
                "billed_millis",
                "unbilled_millis",
            ],
            0,
        ),
    }
    body = "".join(exports.csv_chunks(tables.DAYS.csv_header(), [tables.DAYS.csv_row(day)]))
    header, row = list(csv.reader(io.StringIO(body)))
    assert row[header.index("Fill rate")] == ""
    assert "'-" not in body
    assert exports.safe_cell("-cmd") == "'-cmd"
    assert exports.safe_cell("=1+1") == "'=1+1"


def test_code_names_are_shown_as_words():
    assert formatting.words(formatting.CONVERSION_STATUS, "not_billable").startswith("Not billable")
    assert formatting.words(formatting.REASON, "payer_is_advertiser") == (
        "The payer is the advertiser's own wallet"
    )
    assert formatting.words(formatting.REASON, "some_new_reason") == "Some new reason"
    assert formatting.words(formatting.REASON, "") == ""
    record = {"reason": "duplicate_impression", "source": "beacon"}
    record |= {"facilitator_name": "f", "campaign_name": "c", "count": 3}
    assert tables.INVALID.csv_row(record)[:2] == ["Impression already counted", "Impression beacon"]
