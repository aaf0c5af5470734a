"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, nothing to load.

Pure functions from numbers to markup; every label is escaped. Text uses `currentColor`
so the charts follow the admin's light and dark themes.
"""

import math
from collections.abc import Callable, Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

from reports import formatting

PALETTE = ("#417690", "#79aec8", "#e0a23a", "#ba2121", "#6c9a48", "#8e6bb8")
FONT = 'font-family="system-ui, sans-serif" font-size="11"'


def nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `value`."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def usdc_axis(millis: float) -> str:
    """An axis label in USDC from millis, exactly (no float rounding, never an exponent)."""
    return f"{formatting.usdc(round(millis))} USDC"


def _number(value: float) -> str:
    if value >= 1_000_000:
        return f"{value / 1_000_000:g}M"
    if value >= 1_000:
        return f"{value / 1_000:g}k"
    return f"{value:g}"


def bar_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    title: str,
    width: int = 760,
    height: int = 200,
    value_format: Callable[[float], str] = _number,
    stacked: bool = True,
    empty_text: str = "Nothing in this range.",
) -> SafeString:
    """Vertical bars, one band per label, with a legend naming each series' colour.

    `stacked` piles the series into one bar (parts of a whole, e.g. answered and unanswered
    requests); otherwise they stand side by side in the band, each on the same scale (a
    funnel such as placements, impressions, clicks, conversions, where a stack would add
    up things that are not parts of one another). With nothing above zero the chart says
    `empty_text` over a bare zero line instead of inventing a scale.
    """
    count = max(1, len(labels))
    if stacked:
        tallest = max(
            (sum(values[i] for _, values in series) for i in range(len(labels))), default=0
        )
    else:
        tallest = max((max(values, default=0) for _, values in series), default=0)
    empty = tallest <= 0
    ceiling = nice_ceiling(tallest)
    # Gridlines at 0, half and the ceiling; a tick whose label would repeat its neighbour's
    # (a scale finer than the unit can show) is left out.
    ticks: list[tuple[float, str]] = []
    for fraction in (0,) if empty else (0, 0.5, 1):
        text = value_format(ceiling * fraction)
        if not ticks or ticks[-1][1] != text:
            ticks.append((fraction, text))
    # Room on the left for the widest axis label (about 6.5 px per character at 11 px).
    widest = max(len(text) for _, text in ticks)
    left, right, top, bottom = max(40, 12 + int(6.5 * widest)), 8, 26, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    band = plot_w / count
    bar = max(1.0, band * 0.72)
    names = ", ".join(name for name, _ in series)
    label = f"{title} ({names})" if names else title
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for fraction, text in ticks:
        y = top + plot_h - fraction * plot_h
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor" '
            f"{FONT}>{escape(text)}</text>"
        )
    if empty:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" '
            f'text-anchor="middle" fill="currentColor" class="chart-empty" {FONT}>'
            f"{escape(empty_text)}</text>"
        )
    slot = bar / max(1, len(series))
    for i, band_label in enumerate(labels):
        x = left + i * band + (band - bar) / 2
        base = top + plot_h
        for n, ((name, values), colour) in enumerate(zip(series, PALETTE, strict=False)):
            value = values[i]
            if value <= 0:
                continue
            h = value / ceiling * plot_h
            if stacked:
                base -= h
                rect_x, rect_y, rect_w = x, base, bar
            else:
                rect_x, rect_y, rect_w = x + n * slot, top + plot_h - h, max(1.0, slot)
            parts.append(
                f'<rect x="{rect_x:.1f}" y="{rect_y:.1f}" width="{rect_w:.1f}" '
                f'height="{h:.1f}" fill="{colour}"><title>{escape(band_label)} · '
                f"{escape(name)}: {escape(value_format(value))}</title></rect>"
            )
    step = max(1, math.ceil(count / 12))
    for i in range(0, len(labels), step):
        x = left + i * band + band / 2
        parts.append(
            f'<text x="{x:.1f}" y="{height - 6}" text-anchor="middle" fill="currentColor" '
            f"{FONT}>{escape(labels[i])}</text>"
        )
    x = left
    for (name, _values), colour in zip(series, PALETTE, strict=False):
        parts.append(
            f'<g class="chart-legend"><rect x="{x}" y="6" width="10" height="10" '
            f'fill="{colour}"/><text x="{x + 14}" y="15" fill="currentColor" {FONT}>'
            f"{escape(name)}</text></g>"
        )
        x += 24 + 7 * len(name)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def hbar_chart(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    width: int = 760,
    value_format: Callable[[float], str] = _number,
    colour: str = PALETTE[0],
) -> SafeString:
    """Horizontal bars, one per labelled item, longest first as given."""
    row, label_w, value_w = 22, 230, 70
    height = max(1, len(items)) * row + 8
    plot_w = width - label_w - value_w
    ceiling = max((value for _, value in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i, (label, value) in enumerate(items):
        y = 4 + i * row
        w = max(1.0, value / ceiling * plot_w) if value > 0 else 0
        short = label if len(label) <= 34 else label[:33] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" fill="currentColor" '
            f"{FONT}>{escape(short)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row - 6}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(value_format(value))}</title>'
            f"</rect>"
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" fill="currentColor" {FONT}>'
            f"{escape(value_format(value))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above
