"""Charts drawn on the server as inline SVG: no JavaScript, no CDN, nothing to load.

Pure functions from numbers to markup; every label is escaped. Text uses `currentColor`
so the charts follow the admin's light and dark themes.
"""

import math
from collections.abc import Callable, Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe

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
    """An axis label in USDC from millis: at most six decimals (an atomic unit), never an
    exponent, so an empty chart reads "0 USDC" rather than "1e-09 USDC"."""
    text = f"{millis / 1_000_000_000:.6f}".rstrip("0").rstrip(".")
    return f"{text} USDC"


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
) -> SafeString:
    """Stacked vertical bars, one per label; each series is one colour of the stack."""
    count = max(1, len(labels))
    stacks = [sum(values[i] for _, values in series) for i in range(len(labels))]
    ceiling = nice_ceiling(max(stacks, default=0))
    # Room on the left for the widest axis label (about 6.5 px per character at 11 px).
    widest = max(len(value_format(ceiling * f)) for f in (0, 0.5, 1))
    left, right, top, bottom = max(40, 12 + int(6.5 * widest)), 8, 26, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    band = plot_w / count
    bar = max(1.0, band * 0.72)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (0, 0.5, 1):
        y = top + plot_h - fraction * plot_h
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="currentColor" stroke-opacity="0.15"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="currentColor" '
            f"{FONT}>{escape(value_format(ceiling * fraction))}</text>"
        )
    for i, label in enumerate(labels):
        x = left + i * band + (band - bar) / 2
        base = top + plot_h
        for (name, values), colour in zip(series, PALETTE, strict=False):
            value = values[i]
            if value <= 0:
                continue
            h = value / ceiling * plot_h
            base -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)} · {escape(name)}: '
                f"{escape(value_format(value))}</title></rect>"
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
            f'<rect x="{x}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="15" fill="currentColor" {FONT}>{escape(name)}</text>'
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
