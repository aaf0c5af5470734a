"""Pure presentation: exact money strings, explorer links, safe CSV cells, escaped SVG."""

import re

import pytest

from reports import charts, exports, formatting
from reports.explorers import TX_URLS, tx_url

HASH = "0x" + "ab" * 32


@pytest.mark.parametrize(
    ("millis", "atomic", "usdc"),
    [
        (0, "0", "0"),
        (1, "0.001", "0.000000001"),
        (1500, "1.5", "0.0000015"),
        (2_500_000_000, "2500000", "2.5"),
        (10**18 + 7, "1000000000000000.007", "1000000000.000000007"),
    ],
)
def test_amounts_are_written_exactly(millis, atomic, usdc):
    assert formatting.atomic(millis) == atomic
    assert formatting.usdc(millis) == usdc


def test_usdc_display_and_percent():
    # One precision on every page: 6 decimals, whole atomic units (exports stay exact).
    assert formatting.usdc_display(2_500_000_000) == "2.500000"
    assert formatting.usdc_display(1_234_567_999) == "1.234567"
    assert formatting.usdc_display(1) == "0.000000"
    assert formatting.percent(None) == "-"
    assert formatting.percent(0.8125) == "81.2%"
    assert formatting.duration(3725) == "1h 02m 05s"
    assert formatting.duration(65) == "1m 05s"


@pytest.mark.parametrize(
    ("network", "url"),
    [
        ("eip155:8453", f"https://basescan.org/tx/{HASH}"),
        ("eip155:84532", f"https://sepolia.basescan.org/tx/{HASH}"),
        ("eip155:137", f"https://polygonscan.com/tx/{HASH}"),
        ("eip155:43114", f"https://snowtrace.io/tx/{HASH}"),
        ("solana:5eykt4UsFv8P8NJdTREpY1vzqKqZKvdp", f"https://solscan.io/tx/{HASH}"),
        ("solana:EtWTRABZaYq6iMfeYKouRu166VU2xqa1", f"https://solscan.io/tx/{HASH}?cluster=devnet"),
        ("eip155:1", ""),
    ],
)
def test_explorer_links_per_network(network, url):
    assert tx_url(network, HASH) == url


def test_explorer_links_never_inject_markup():
    assert tx_url("eip155:8453", "") == ""
    assert tx_url("eip155:8453", '"><script>') == "https://basescan.org/tx/%22%3E%3Cscript%3E"
    assert len(TX_URLS) == 6


@pytest.mark.parametrize(
    ("cell", "safe"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1+1", "'+1+1"),
        ("@cmd", "'@cmd"),
        ("-12.5", "-12.5"),
        ("plain", "plain"),
        ("", ""),
    ],
)
def test_csv_cells_are_defused(cell, safe):
    assert exports.safe_cell(cell) == safe


def test_bar_chart_scales_stacks_and_escapes_labels():
    svg = charts.bar_chart(
        ["<a>", "b"], [("answered", [30, 10]), ("unanswered", [10, 0])], title="T & co"
    )
    assert "<a>" not in svg
    assert "&lt;a&gt;" in svg and "T &amp; co" in svg
    bars = re.findall(r'height="([^"]+)" fill="[^"]+"><title>', svg)
    heights = [float(h) for h in bars]
    # 30 + 10 stacked on the first label, 10 on the second; zero is not drawn.
    assert len(heights) == 3
    assert heights[0] == pytest.approx(3 * heights[2], rel=0.01)
    assert heights[1] == pytest.approx(heights[2], rel=0.01)


def test_nice_ceiling_and_empty_charts():
    assert charts.nice_ceiling(0) == 1
    assert charts.nice_ceiling(7) == 10
    assert charts.nice_ceiling(2100) == 2500
    assert "<svg" in charts.bar_chart([], [], title="nothing")
    assert "<svg" in charts.hbar_chart([], title="nothing")
    bars = charts.hbar_chart([("x" * 50, 4), ("y", 2)], title="reasons")
    assert "…" in bars and "x" * 50 in bars  # short label shown, full one in the tooltip
