"""The look shared by the web app's figures and the reports (PDF, HTML, XLSX): palette, target
bands, the diverging scale around the target, fonts, and how a table cell reads.

Colours are colour-blind safe: ColorBrewer PuOr for the target bands and the diverging scale,
viridis for counts. Nothing here imports matplotlib, so the HTML report and the app never need
it; the PDF renderer builds its matplotlib colour map from :data:`DIVERGING` and
:func:`scale_limits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from plotly.colors import diverging, sample_colorscale

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif"
FONT = dict(family=FONT_FAMILY, size=13)

# Target bands, best first, with the legend label.
BANDS = [
    ("met", "#5e3c99", "Target met"),
    ("close", "#b2abd2", "Up to 5 points below target"),
    ("below", "#fdb863", "5 to 15 points below target"),
    ("far", "#e66101", "More than 15 points below target"),
]
NO_DATA = ("none", "#d9d9d9", "No children / suppressed")
CONTEXT_FILL = "#f0f0f0"  # districts shown for context (not the authority's)
OUTLINE = "#4d4d4d"
CONTEXT_GREY = "#d9d9d9"
HIDDEN_GREY = "#f0f0f0"  # a suppressed or empty value on a coloured scale
TEXT = "#1a1a1a"
MUTED = "#555555"
TOTAL_COLOUR = "#404040"

DIVERGING_NAME = "PuOr"  # matplotlib's name for the same ColorBrewer scale (PDF)
DIVERGING = tuple(diverging.PuOr)  # 11 ColorBrewer colours, low (orange) to high (purple)


def band(pct: float | None, target: float) -> str:
    """The target band of a percentage (``none`` when unknown)."""
    if pct is None or not np.isfinite(pct):
        return NO_DATA[0]
    gap = target - pct
    if gap <= 0:
        return "met"
    if gap <= 5:
        return "close"
    if gap <= 15:
        return "below"
    return "far"


def band_colour(pct: float | None, target: float) -> str:
    """The colour of a percentage's target band (:data:`NO_DATA` grey when unknown)."""
    return dict((key, colour) for key, colour, _ in BANDS).get(band(pct, target), NO_DATA[1])


def scale_limits(values: np.ndarray, *, target: float) -> tuple[float, float, float]:
    """``(low, centre, high)`` of the diverging % scale: centred on the target, 0-100 % trimmed
    to the data in steps of 10 (at least 5 points below the target)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    low = min(target - 20.0, float(np.floor(finite.min() / 10) * 10)) if len(finite) else 60.0
    low = max(0.0, min(low, target - 5.0))
    return low, target, 100.0


@dataclass(frozen=True)
class DivergingScale:
    """The % scale as colours: ``low`` to ``centre`` maps onto the lower half of
    :data:`DIVERGING`, ``centre`` to ``high`` onto the upper half (a two-slope norm)."""

    low: float
    centre: float
    high: float

    def position(self, value: float) -> float:
        """0-1 position of ``value`` on the scale (clipped)."""
        if value <= self.centre:
            span = self.centre - self.low
            pos = 0.5 * (value - self.low) / span if span > 0 else 0.5
        else:
            span = self.high - self.centre
            pos = 0.5 + 0.5 * (value - self.centre) / span if span > 0 else 0.5
        return float(min(1.0, max(0.0, pos)))

    def hex(self, value: float) -> str:
        """The colour of ``value`` as ``#rrggbb``; :data:`HIDDEN_GREY` when not finite."""
        if not np.isfinite(value):
            return HIDDEN_GREY
        rgb = sample_colorscale(list(DIVERGING), [self.position(value)], colortype="tuple")[0]
        return "#{:02x}{:02x}{:02x}".format(*(int(round(c * 255)) for c in rgb))


def target_scale(values: np.ndarray, *, target: float) -> DivergingScale:
    """The diverging scale for ``values`` (percentages) around ``target``."""
    return DivergingScale(*scale_limits(values, target=target))


def cell_text(value: Any, kind: str) -> str:
    """How a table cell reads in print: thousands separators, one decimal for % and miles,
    ``c`` for hidden, an en dash where there is nothing to show."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and not np.isfinite(value)) or pd.isna(value):
        return "–"
    if kind == "int":
        return f"{int(round(float(value))):,}"
    if kind in ("pct", "miles"):
        return f"{float(value):.1f}"
    if kind == "ratio":
        return f"{float(value):.2f}"
    return str(value)
