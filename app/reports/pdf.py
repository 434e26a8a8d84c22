"""The report as a PDF of A4 pages (matplotlib, no pyplot state: safe inside a web server).

Pages: headline and bar chart; map; trend; district table (landscape); cohorts and the trend
table; shortage areas and recruitment (when carers are given); definitions and sources. Colours
use the ColorBrewer PuOr diverging scale (colour-blind safe) centred on the target: orange below,
purple above; districts outside the authority are grey, hidden figures hatched.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.colors import Colormap, TwoSlopeNorm, to_hex
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from app.reports.model import Report, headline_sentence
from app.reports.tables import Column, ReportTable
from app.style import (
    CONTEXT_GREY,
    DIVERGING_NAME,
    HIDDEN_GREY,
    MUTED,
    TEXT,
    TOTAL_COLOUR,
    cell_text,
    scale_limits,
)

A4_PORTRAIT = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)


def colour_scale(values: np.ndarray, *, target: float) -> tuple[Colormap, TwoSlopeNorm]:
    """The diverging colour map and its normalisation (:func:`app.style.scale_limits`: centre =
    target, 0-100 % range trimmed to the data in steps of 10)."""
    from matplotlib import colormaps

    low, centre, high = scale_limits(values, target=target)
    return colormaps[DIVERGING_NAME], TwoSlopeNorm(vmin=low, vcenter=centre, vmax=high)


def render_pdf(report: Report) -> bytes:
    """Render every page into one PDF and return its bytes."""
    pages = [_title_page(report), _map_page(report), _trend_page(report)]
    pages.append(_table_page(report, report.districts, landscape=True))
    pages.append(_tables_page(report, [report.cohorts, report.trend]))
    extra = [t for t in (report.shortage_areas, report.recruitment) if t is not None]
    if extra:
        pages.append(_tables_page(report, extra))
    if report.benchmark is not None:  # its own page: long measure names
        pages.append(_tables_page(report, [report.benchmark]))
    pages.append(_notes_page(report))
    buf = io.BytesIO()
    with PdfPages(buf, metadata={"Title": report.title, "Creator": "placemap"}) as pdf:
        for n, fig in enumerate(pages, start=1):
            _footer(fig, report, n, len(pages))
            pdf.savefig(fig)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------
# Pages


def _page(landscape: bool = False) -> Figure:
    return Figure(figsize=A4_LANDSCAPE if landscape else A4_PORTRAIT)


def _footer(fig: Figure, report: Report, n: int, total: int) -> None:
    control = (
        "disclosure control on: c = 0-6 not shown; other counts within 2 (cell-key method)"
        if report.suppressed
        else ("DISCLOSURE CONTROL OFF: analyst copy, do not publish")
    )
    fig.text(
        0.06,
        0.02,
        f"{report.authority.name} · as at {report.as_at:%d %B %Y} · {control}",
        fontsize=7,
        color=MUTED if report.suppressed else "#b2182b",
    )
    fig.text(0.94, 0.02, f"page {n} of {total}", fontsize=7, color=MUTED, ha="right")


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width))


def _title_page(report: Report) -> Figure:
    fig = _page()
    h = report.headline
    fig.text(0.06, 0.94, report.title, fontsize=15, weight="bold", color=TEXT)
    fig.text(
        0.06,
        0.915,
        f"District comparison report · as at {report.as_at:%d %B %Y}",
        fontsize=10,
        color=MUTED,
    )
    big = "c" if h.pct_within_20 is None else f"{h.pct_within_20:.1f} %"
    fig.text(0.06, 0.83, big, fontsize=40, weight="bold", color=TEXT)
    fig.text(
        0.06,
        0.80,
        "placed within 20 miles of home\n(UASC and short breaks excluded)",
        fontsize=10,
        color=MUTED,
        linespacing=1.3,
    )
    facts = [
        ("Target", f"{h.target_pct:.0f} %"),
        ("Against target", _points(h.gap_to_target_points)),
        (f"{h.previous_as_at:%d %b %Y}", _pct(h.previous_pct_within_20)),
        ("Change on quarter", _points(h.change_points)),
        ("Within 10 miles", _pct(h.pct_within_10)),
        ("Median distance", "–" if h.median_miles is None else f"{h.median_miles:.1f} mi"),
    ]
    for i, (label, value) in enumerate(facts):
        x = 0.50 + (i % 2) * 0.24
        y = 0.875 - (i // 2) * 0.04
        fig.text(x, y, value, fontsize=13, weight="bold", color=TEXT)
        fig.text(x, y - 0.014, label, fontsize=7.5, color=MUTED)
    fig.text(
        0.06,
        0.74,
        _wrap(headline_sentence(report), 105),
        fontsize=9,
        color=TEXT,
        va="top",
        linespacing=1.4,
    )
    fig.text(
        0.06,
        0.685,
        _wrap(_key_points(report), 105),
        fontsize=9,
        color=TEXT,
        va="top",
        linespacing=1.4,
    )
    ax = fig.add_axes((0.30, 0.08, 0.62, 0.54))
    _bar_chart(ax, report)
    return fig


def _points(value: float | None) -> str:
    return "–" if value is None else f"{value:+.1f} points"


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f} %"


def _key_points(report: Report) -> str:
    m = report.map_values.dropna(subset=["pct_within_20"])
    target = report.headline.target_pct
    below = m[m["pct_within_20"] < target].sort_values("pct_within_20")
    parts = []
    if len(m):
        parts.append(
            f"{len(below)} of {len(report.map_values)} districts are below the target"
            + (
                f"; lowest {below.iloc[0]['district_name']} ({below.iloc[0]['pct_within_20']:.1f} %)"
                if len(below)
                else ""
            )
            + f"; highest {m.sort_values('pct_within_20').iloc[-1]['district_name']} "
            f"({m['pct_within_20'].max():.1f} %)."
        )
    h = report.headline
    if h.uasc_hidden:
        parts.append("UASC (not in the headline): c children.")
    elif h.uasc_children:
        parts.append(
            f"UASC (not in the headline): {h.uasc_children:,} children, "
            f"{_pct(h.uasc_pct_within_20)} within 20 miles."
        )
    hidden = int(report.map_values["hidden"].sum())
    if hidden:
        parts.append(f"{hidden} district(s) have too few children to show (c).")
    return " ".join(parts)


def _bar_chart(ax: Axes, report: Report) -> None:
    m = report.map_values.copy()
    target = report.headline.target_pct
    m["sort"] = m["pct_within_20"].fillna(-1)
    m = m.sort_values("sort")
    values = m["pct_within_20"].to_numpy(dtype=float)
    cmap, norm = colour_scale(values, target=target)
    y = np.arange(len(m))
    colours = [to_hex(cmap(norm(v))) if np.isfinite(v) else HIDDEN_GREY for v in values]
    ax.barh(y, np.nan_to_num(values), color=colours, edgecolor="#333333", linewidth=0.5)
    for yi, v in zip(y, values, strict=True):
        ax.text(
            109,
            float(yi),
            f"{v:.1f}" if np.isfinite(v) else "c",
            va="center",
            ha="right",
            fontsize=8.5,
            color=TEXT,
        )
    ax.set_yticks(y, m["district_name"].tolist(), fontsize=8.5)
    ax.axvline(target, color="#b2182b", linestyle="--", linewidth=1.2)
    ax.text(
        target, len(m) - 0.3, f" target {target:.0f} %", color="#b2182b", fontsize=8, va="bottom"
    )
    total = report.headline.pct_within_20
    if total is not None:
        ax.axvline(total, color=TOTAL_COLOUR, linestyle=":", linewidth=1.2)
        ax.text(
            total,
            -0.9,
            f"{report.authority.name} {total:.1f} % ",
            color=TOTAL_COLOUR,
            fontsize=8,
            ha="right",
            va="center",
        )
    ax.set_xlim(0, 110)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_ylim(-1.4, len(m))
    ax.set_xlabel(
        "% of children with a known distance placed within 20 miles of home", fontsize=8.5
    )
    ax.set_title("Districts against the target (by home district)", fontsize=10, loc="left")
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _map_page(report: Report) -> Figure:
    fig = _page()
    fig.text(
        0.06,
        0.94,
        "Where children are placed within 20 miles of home",
        fontsize=14,
        weight="bold",
        color=TEXT,
    )
    fig.text(
        0.06,
        0.918,
        f"% within 20 miles by home district, as at {report.as_at:%d %B %Y}",
        fontsize=10,
        color=MUTED,
    )
    top = 0.90
    if report.boundaries is None or report.boundaries.empty:
        fig.text(
            0.06,
            0.88,
            _wrap(
                "The map is omitted: no district boundaries were available "
                "(no boundaries file, no cached ONS download, no offline "
                "derivation). The same figures are in the bar chart and "
                "the district table.",
                95,
            ),
            fontsize=10,
            va="top",
        )
        bottom = 0.80
    else:
        own = report.boundaries[
            report.boundaries["district_code"].isin(report.map_values["district_code"])
        ]
        xmin, ymin, xmax, ymax = own.total_bounds
        width = 0.92
        height = min(
            0.60, width * A4_PORTRAIT[0] / A4_PORTRAIT[1] * (ymax - ymin) / (xmax - xmin) * 1.08
        )
        ax = fig.add_axes((0.04, top - height, width, height))
        _map(ax, report)
        cax = fig.add_axes((0.15, top - height - 0.035, 0.70, 0.013))
        _colourbar(fig, cax, report)
        caption = (
            "Colours: ColorBrewer PuOr, centred on the target: orange below it, purple above. "
            f"Grey: outside {report.authority.name} (context only). Hatched: figure hidden (too "
            "few children). " + report.sources[1]
        )
        wrapped = _wrap(caption, 125)
        fig.text(0.06, top - height - 0.085, wrapped, fontsize=7, color=MUTED, va="top")
        bottom = top - height - 0.085 - 0.0125 * (wrapped.count("\n") + 1) - 0.03
    if report.groups is not None:
        fig.text(
            0.06, bottom, report.groups.title, fontsize=11, weight="bold", color=TEXT, va="top"
        )
        n = len(report.groups.data) + 2
        h = 0.024 * n
        ax = fig.add_axes((0.06, bottom - 0.03 - h, 0.88, h))
        _draw_table(ax, report.groups, fontsize=8, wrap=14)
        if report.groups.note:
            fig.text(
                0.06,
                bottom - 0.04 - h,
                _wrap(report.groups.note, 130),
                fontsize=7,
                color=MUTED,
                va="top",
            )
    return fig


def _map(ax: Axes, report: Report) -> None:
    b = report.boundaries
    assert b is not None
    target = report.headline.target_pct
    values = report.map_values.set_index("district_code")
    cmap, norm = colour_scale(values["pct_within_20"].to_numpy(dtype=float), target=target)
    own = b[b["district_code"].isin(values.index)]
    context = b[~b["district_code"].isin(values.index)]
    if len(context):
        context.plot(ax=ax, color=CONTEXT_GREY, edgecolor="white", linewidth=0.6)
    pct = own["district_code"].map(values["pct_within_20"]).to_numpy(dtype=float)
    colours = [to_hex(cmap(norm(v))) if np.isfinite(v) else HIDDEN_GREY for v in pct]
    own.plot(ax=ax, color=colours, edgecolor="#333333", linewidth=0.7)
    hidden = own[~np.isfinite(pct)]
    if len(hidden):
        hidden.plot(ax=ax, facecolor="none", edgecolor="#999999", hatch="///", linewidth=0)
    xmin, ymin, xmax, ymax = own.total_bounds
    pad = 0.04 * max(xmax - xmin, ymax - ymin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_aspect("equal")
    ax.set_axis_off()
    points = own.geometry.representative_point()
    for name, pt, v in zip(own["district_name"], points, pct, strict=True):
        label = f"{_short(name)}\n{v:.1f} %" if np.isfinite(v) else f"{_short(name)}\nc"
        ax.text(
            pt.x,
            pt.y,
            label,
            ha="center",
            va="center",
            fontsize=7,
            color=TEXT,
            weight="bold",
            linespacing=1.1,
            path_effects=_HALO,
        )
    if len(context):
        # Configured context areas (Medway for Kent) inside the view: named in grey italics;
        # other neighbours stay unnamed so the edges do not clutter.
        named = context[context["role"] == "context"] if "role" in context.columns else context
        cpts = named.geometry.representative_point()
        for name, pt in zip(named["district_name"], cpts, strict=True):
            if xmin - pad < pt.x < xmax + pad and ymin - pad < pt.y < ymax + pad:
                ax.text(
                    pt.x,
                    pt.y,
                    _short(name),
                    ha="center",
                    va="center",
                    fontsize=6.5,
                    color="#6b6b6b",
                    style="italic",
                )


_HALO = [patheffects.withStroke(linewidth=2.2, foreground="white")]


def _short(name: str) -> str:
    return name.replace(" and ", " & ")


def _colourbar(fig: Figure, cax: Axes, report: Report) -> None:
    from matplotlib.cm import ScalarMappable

    values = report.map_values["pct_within_20"].to_numpy(dtype=float)
    cmap, norm = colour_scale(values, target=report.headline.target_pct)
    bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    bar.set_label("% within 20 miles (target at the white centre)", fontsize=8)
    bar.ax.tick_params(labelsize=7.5)


def _trend_page(report: Report) -> Figure:
    fig = _page()
    fig.text(0.06, 0.94, "Trend by quarter", fontsize=14, weight="bold", color=TEXT)
    fig.text(
        0.06,
        0.918,
        "% within 20 miles at each quarter end (headline cohort)",
        fontsize=10,
        color=MUTED,
    )
    t = report.trend
    qcols = [c for c in t.columns if c.kind == "pct"]
    if not qcols:
        fig.text(0.06, 0.85, "No quarterly history in the data.", fontsize=10)
        return fig
    x = np.arange(len(qcols))
    labels = [c.label for c in qcols]
    target = report.headline.target_pct
    total_row = t.data.iloc[-1]
    total = _numbers(total_row, qcols)
    ax = fig.add_axes((0.10, 0.66, 0.84, 0.23))
    ax.plot(
        x,
        total,
        color=TOTAL_COLOUR,
        marker="o",
        linewidth=2,
        label=f"{report.authority.name} total",
    )
    ax.axhline(target, color="#b2182b", linestyle="--", linewidth=1, label=f"target {target:.0f} %")
    for xi, v in zip(x, total, strict=True):
        if np.isfinite(v):
            ax.annotate(
                f"{v:.1f}",
                (xi, v),
                textcoords="offset points",
                # below the point when it sits just under the target line, so they don't cross
                xytext=(0, -12 if target - 4 < v < target else 6),
                ha="center",
                fontsize=7.5,
                path_effects=_HALO,
            )
    ax.set_xticks(x, labels, fontsize=8)
    lo = np.nanmin(_all_numbers(t, qcols)) if np.isfinite(_all_numbers(t, qcols)).any() else 0
    ax.set_ylim(max(0, np.floor(min(lo, target) / 10) * 10 - 5), 100)
    ax.set_ylabel("% within 20 miles", fontsize=8.5)
    ax.tick_params(axis="y", labelsize=8)
    ax.legend(fontsize=8, loc="lower left", frameon=False, ncols=2)
    ax.set_title(report.authority.name, fontsize=10, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ylim = ax.get_ylim()
    n = len(t.data) - 1
    cols = 3
    rows = int(np.ceil(n / cols))
    width, height = 0.84 / cols, 0.52 / rows
    for i in range(n):
        r, c = divmod(i, cols)
        sub = fig.add_axes(
            (0.10 + c * width, 0.08 + (rows - 1 - r) * height, width - 0.045, height - 0.04)
        )
        vals = _numbers(t.data.iloc[i], qcols)
        sub.plot(x, total, color="#8c8c8c", linewidth=1.6, alpha=0.7)
        sub.plot(x, vals, color="#542788", marker="o", markersize=2.5, linewidth=1.4)
        sub.axhline(target, color="#b2182b", linestyle="--", linewidth=0.7)
        sub.set_ylim(*ylim)
        sub.set_title(t.data.iloc[i]["district_name"], fontsize=8, loc="left", pad=2)
        sub.set_xticks([x[0], x[-1]], [labels[0], labels[-1]], fontsize=6.5)
        sub.tick_params(axis="y", labelsize=6.5)
        for side in ("top", "right"):
            sub.spines[side].set_visible(False)
        hidden = t.mask.iloc[i][[c.key for c in qcols]].to_numpy(dtype=bool)
        if hidden.any():
            sub.text(
                0.98,
                0.05,
                "c: hidden",
                transform=sub.transAxes,
                fontsize=6,
                ha="right",
                color=MUTED,
            )
    fig.text(
        0.10,
        0.615,
        "Districts (purple) against the authority total (grey) and the target (dashed)",
        fontsize=8.5,
        color=MUTED,
    )
    return fig


def _numbers(row: pd.Series, cols: Sequence[Column]) -> np.ndarray:
    return pd.to_numeric(pd.Series([row[c.key] for c in cols]), errors="coerce").to_numpy(float)


def _all_numbers(t: ReportTable, cols: Sequence[Column]) -> np.ndarray:
    return pd.to_numeric(
        pd.Series(t.data[[c.key for c in cols]].to_numpy().ravel()), errors="coerce"
    ).to_numpy(float)


def _draw_table(
    ax: Axes, table: ReportTable, *, fontsize: float, skip: Sequence[str] = (), wrap: int = 12
) -> None:
    cols = [c for c in table.columns if c.key not in skip]
    text = [[cell_text(r[c.key], c.kind) for c in cols] for _, r in table.data.iterrows()]
    ax.set_axis_off()
    if not text:  # the table's note says why
        return
    labels = [
        "\n".join(textwrap.wrap(c.label, wrap, break_long_words=False)) or c.label for c in cols
    ]
    # Column widths in characters (bold headings ~10 % wider), plus padding; the font shrinks
    # (not below 6 pt) when the widest rows would not fit the page.
    chars = np.array(
        [
            max([len(r[j]) for r in text] + [1.1 * max(len(w) for w in labels[j].split("\n")), 3])
            + 1.5
            for j in range(len(cols))
        ],
        dtype=float,
    )
    avail_in = ax.bbox.width / ax.figure.dpi
    need_in = chars.sum() * 0.6 * fontsize / 72
    if need_in > avail_in:
        fontsize = max(6.0, fontsize * avail_in / need_in)
    widths = chars / chars.sum()
    tab = ax.table(
        cellText=text,
        colLabels=labels,
        colWidths=list(widths),
        cellLoc="right",
        # exactly the axes: the margins stay where the page puts them
        bbox=Bbox.from_bounds(0.0, 0.0, 1.0, 1.0),
    )
    tab.auto_set_font_size(False)
    tab.set_fontsize(fontsize)
    header_lines = max(label.count("\n") + 1 for label in labels)
    n_rows = len(text) + header_lines
    row_h = 1.0 / max(n_rows, 1)
    for (r, c), cell in tab.get_celld().items():
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.4)
        if r == 0:
            cell.set_height(row_h * header_lines)
            cell.set_facecolor("#dce3ec")
            cell.set_text_props(weight="bold", ha="center")
        else:
            cell.set_height(row_h)
            if cols[c].kind == "text":
                cell.set_text_props(ha="left")
                # matplotlib tables take one alignment for all cells; names read left.
                setattr(cell, "_loc", "left")  # noqa: B010
            if (r - 1) in table.bold_rows:
                cell.set_text_props(weight="bold")
    ax.set_axis_off()


def _table_page(report: Report, table: ReportTable, *, landscape: bool) -> Figure:
    fig = _page(landscape)
    fig.text(0.05, 0.94, table.title, fontsize=13, weight="bold", color=TEXT)
    n = len(table.data) + 2
    height = min(0.78, 0.04 * n)
    ax = fig.add_axes((0.05, 0.90 - height, 0.90, height))
    _draw_table(ax, table, fontsize=8, skip=("district_code",), wrap=10)
    notes = [table.note, report.disclosure_note]
    fig.text(
        0.05,
        0.86 - height,
        _wrap(" ".join(n for n in notes if n), 170),
        fontsize=7.5,
        color=MUTED,
        va="top",
    )
    return fig


def _tables_page(report: Report, tables: Sequence[ReportTable]) -> Figure:
    fig = _page()
    top = 0.95
    for table in tables:
        fig.text(
            0.06, top, _wrap(table.title, 90), fontsize=11, weight="bold", color=TEXT, va="top"
        )
        n = len(table.data) + 2
        height = min(0.36, 0.022 * n)
        ax = fig.add_axes((0.06, top - 0.03 - height, 0.88, height))
        _draw_table(ax, table, fontsize=7, skip=("district_code",), wrap=14)
        if table.note:
            fig.text(
                0.06, top - 0.04 - height, _wrap(table.note, 130), fontsize=7, color=MUTED, va="top"
            )
        top = top - 0.12 - height
    return fig


def _notes_page(report: Report) -> Figure:
    fig = _page()
    fig.text(0.06, 0.94, "Definitions and data notes", fontsize=14, weight="bold", color=TEXT)
    y = 0.91
    for text in report.notes:
        block = _wrap(text, 115)
        fig.text(
            0.06,
            y,
            "• " + block.replace("\n", "\n   "),
            fontsize=8,
            va="top",
            color=TEXT,
            linespacing=1.35,
        )
        y -= 0.0135 * (block.count("\n") + 1) + 0.012
    y -= 0.015
    fig.text(0.06, y, "Sources and attribution", fontsize=11, weight="bold", color=TEXT)
    y -= 0.025
    for text in report.sources:
        block = _wrap(text, 115)
        fig.text(0.06, y, block, fontsize=7.5, va="top", color=MUTED, linespacing=1.35)
        y -= 0.0125 * (block.count("\n") + 1) + 0.012
    fig.text(
        0.06,
        y - 0.01,
        f"Generated {report.generated:%d %B %Y %H:%M}",
        fontsize=7.5,
        color=MUTED,
        va="top",
    )
    return fig
