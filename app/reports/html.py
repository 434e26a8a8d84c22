"""The report as one self-contained HTML file: inline CSS, plotly.js embedded once, no request
to any other site (the map is drawn from the district polygons as filled shapes in British
National Grid metres, so no map tiles or topojson are fetched)."""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import plotly.graph_objects as go

from app.reports.model import Report, headline_sentence
from app.reports.tables import ReportTable
from app.style import CONTEXT_GREY, FONT_FAMILY, cell_text, target_scale

SIMPLIFY_M = 80.0  # polygon simplification for the browser; invisible at report scale
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
FONT = FONT_FAMILY

CSS = """
body{font-family:{font};color:#1a1a1a;margin:0;background:#f6f7f9;line-height:1.45}
main{max-width:1400px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 8px;border-bottom:2px solid
#dce3ec;padding-bottom:4px}.sub{color:#555;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}.card{flex:1 1 150px;border:1px solid
#dce3ec;border-radius:6px;padding:10px 14px}.card b{display:block;font-size:1.5rem}
.card span{color:#555;font-size:.85rem}.card.big b{font-size:2.4rem}
.banner{background:#eef1f5;border-left:4px solid #542788;padding:8px 12px;font-size:.9rem}
.banner.off{background:#fde0dd;border-left-color:#b2182b}
table{border-collapse:collapse;font-size:.85rem;margin:8px 0;width:100%}
th{background:#dce3ec;text-align:center;padding:6px;vertical-align:bottom}
td{padding:4px 6px;border-bottom:1px solid #e3e3e3;text-align:right}td.t{text-align:left;white-space:pre-wrap}
tr.total td{font-weight:700;border-top:2px solid #999}.note{color:#555;font-size:.82rem}
.scroll{overflow-x:auto;max-width:100%}ul.notes li{margin-bottom:6px;font-size:.9rem}
.scroll table{min-width:100%;width:auto}.scroll th{white-space:normal;min-width:3.2em}
.scroll td:first-child,.scroll th:first-child{position:sticky;left:0;background:#fff;z-index:1}
.scroll th:first-child{background:#dce3ec}
@media (max-width:900px){main{padding:12px}table{font-size:.78rem}}
@media print{body{background:#fff}main{max-width:none;padding:0}
.scroll{overflow:visible}table{font-size:7.5pt;width:100%;page-break-inside:auto}
thead{display:table-header-group}tr{page-break-inside:avoid}th,td{padding:2px 3px}
h2{page-break-after:avoid}.js-plotly-plot,.plotly-graph-div{page-break-inside:avoid}}
@page{size:A4 landscape;margin:12mm}
""".replace("{font}", FONT)


def render_html(report: Report) -> bytes:
    """The whole report as UTF-8 HTML bytes."""
    figures = [_bar_figure(report), _trend_figure(report)]
    map_fig = _map_figure(report)
    if map_fig is not None:
        figures.insert(0, map_fig)
    divs = [
        fig.to_html(full_html=False, include_plotlyjs=(i == 0), config=PLOTLY_CONFIG)
        for i, fig in enumerate(figures)
    ]
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(report.title)}</title><style>{CSS}</style></head><body><main>",
        f"<h1>{e(report.title)}</h1>",
        f'<p class="sub">District comparison report · as at {report.as_at:%d %B %Y} · '
        f"generated {report.generated:%d %B %Y}</p>",
        _banner(report),
        _cards(report),
        f"<p>{e(headline_sentence(report))}</p>",
    ]
    if map_fig is not None:
        parts += ["<h2>Map: % within 20 miles by home district</h2>", divs.pop(0)]
        parts.append(
            '<p class="note">Colours: ColorBrewer PuOr centred on the target (orange below, '
            f"purple above). Grey: outside {e(report.authority.name)}, for context. "
            f"{e(report.sources[1])}</p>"
        )
    else:
        parts.append(
            '<h2>Map</h2><p class="note">The map is omitted: no district boundaries were '
            "available. The bar chart and the table show the same figures.</p>"
        )
    parts += ["<h2>Districts against the target</h2>", divs.pop(0)]
    parts += ["<h2>Trend by quarter</h2>", divs.pop(0)]
    for table in report.tables:
        parts.append(_table_html(table))
    parts.append("<h2>Definitions and data notes</h2><ul class='notes'>")
    parts += [f"<li>{e(n)}</li>" for n in report.notes]
    parts.append("</ul><h2>Sources and attribution</h2>")
    parts += [f'<p class="note">{e(s)}</p>' for s in report.sources]
    parts.append("</main></body></html>")
    return "\n".join(parts).encode("utf-8")


def _banner(report: Report) -> str:
    cls = "banner" if report.suppressed else "banner off"
    return f'<p class="{cls}">{html.escape(report.disclosure_note)}</p>'


def _cards(report: Report) -> str:
    h = report.headline

    def pct(v: float | None) -> str:
        return "c" if v is None else f"{v:.1f} %"

    def pts(v: float | None) -> str:
        return "–" if v is None else f"{v:+.1f} points"

    cards = [
        ("big", pct(h.pct_within_20), "within 20 miles of home (UASC, short breaks excluded)"),
        ("", f"{h.target_pct:.0f} %", f"target · {pts(h.gap_to_target_points)}"),
        (
            "",
            pct(h.previous_pct_within_20),
            f"{h.previous_as_at:%d %b %Y} · change {pts(h.change_points)}",
        ),
        ("", pct(h.pct_within_10), "within 10 miles"),
        ("", "c" if h.children is None else f"{h.children:,}", "children in the headline cohort"),
        ("", "c" if h.uasc_hidden else f"{h.uasc_children or 0:,}", "UASC, shown separately"),
    ]
    items = "".join(
        f'<div class="card {cls}"><b>{html.escape(v)}</b><span>{html.escape(label)}</span></div>'
        for cls, v, label in cards
    )
    return f'<div class="cards">{items}</div>'


def _table_html(table: ReportTable) -> str:
    e = html.escape
    cols = [c for c in table.columns if c.key != "district_code"]
    head = "".join(f"<th>{e(c.label)}</th>" for c in cols)
    rows = []
    for i, (_, r) in enumerate(table.data.iterrows()):
        cls = ' class="total"' if i in table.bold_rows else ""
        cells = "".join(
            f"<td{' class=t' if c.kind == 'text' else ''}>{e(cell_text(r[c.key], c.kind))}</td>"
            for c in cols
        )
        rows.append(f"<tr{cls}>{cells}</tr>")
    note = f'<p class="note">{e(table.note)}</p>' if table.note else ""
    return (
        f'<h2 id="{e(table.key)}">{e(table.title)}</h2><div class="scroll"><table><thead><tr>'
        f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{note}"
    )


def _layout(fig: go.Figure, *, height: int, **kwargs: Any) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"family": FONT, "size": 13},
        plot_bgcolor="white",
        paper_bgcolor="white",
        **kwargs,
    )
    return fig


def _bar_figure(report: Report) -> go.Figure:
    m = report.map_values.assign(sort=report.map_values["pct_within_20"].fillna(-1))
    m = m.sort_values("sort")
    values = m["pct_within_20"].to_numpy(dtype=float)
    target = report.headline.target_pct
    scale = target_scale(values, target=target)
    colours = [scale.hex(v) for v in values]
    text = [f"{v:.1f}" if np.isfinite(v) else "c" for v in values]
    fig = go.Figure(
        go.Bar(
            x=np.nan_to_num(values),
            y=m["district_name"],
            orientation="h",
            marker={"color": colours, "line": {"color": "#333", "width": 0.5}},
            text=text,
            textposition="outside",
            hovertemplate="%{y}: %{text} % within 20 miles<extra></extra>",
        )
    )
    fig.add_vline(
        x=target,
        line_dash="dash",
        line_color="#b2182b",
        annotation_text=f"target {target:.0f} %",
        annotation_position="top",
    )
    if report.headline.pct_within_20 is not None:
        fig.add_vline(
            x=report.headline.pct_within_20,
            line_dash="dot",
            line_color="#404040",
            annotation_text=f"{report.authority.name} {report.headline.pct_within_20:.1f} %",
            annotation_position="bottom right",
        )
    fig.update_xaxes(
        range=[0, 105], title="% within 20 miles (children with a known distance)", gridcolor="#eee"
    )
    return _layout(fig, height=460)


def _trend_figure(report: Report) -> go.Figure:
    t = report.trend
    qcols = [c for c in t.columns if c.kind == "pct"]
    x = [c.label for c in qcols]
    fig = go.Figure()
    for i, (_, row) in enumerate(t.data.iterrows()):
        is_total = i == len(t.data) - 1
        y = [v if not isinstance(v, str) else None for v in (row[c.key] for c in qcols)]
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                name=str(row["district_name"]),
                mode="lines+markers",
                line={"width": 4 if is_total else 1.5, "color": "#404040" if is_total else None},
                visible=True if is_total or i < 3 else "legendonly",
                hovertemplate="%{fullData.name}, %{x}: %{y:.1f} %<extra></extra>",
            )
        )
    target = report.headline.target_pct
    fig.add_hline(
        y=target, line_dash="dash", line_color="#b2182b", annotation_text=f"target {target:.0f} %"
    )
    fig.update_yaxes(title="% within 20 miles", range=[0, 100], gridcolor="#eee")
    return _layout(fig, height=440, legend={"title": "click to show / hide"})


def _map_figure(report: Report) -> go.Figure | None:
    b = report.boundaries
    if b is None or b.empty:
        return None
    values = report.map_values.set_index("district_code")
    target = report.headline.target_pct
    pct_all = values["pct_within_20"].to_numpy(dtype=float)
    pct_by_code = dict(zip(values.index, pct_all, strict=True))
    scale = target_scale(pct_all, target=target)
    fig = go.Figure()
    own = b["district_code"].isin(values.index)
    shapes = b.assign(geometry=b.geometry.simplify(SIMPLIFY_M, preserve_topology=True))
    for (_, row), is_own in zip(shapes.iterrows(), own, strict=True):
        code, name = row["district_code"], html.escape(str(row["district_name"]))
        v = float(pct_by_code[code]) if is_own else np.nan
        if is_own:
            colour = scale.hex(v)
            hover = (
                f"{name}: {v:.1f} % within 20 miles"
                if np.isfinite(v)
                else (f"{name}: c (too few children to show)")
            )
        else:
            colour, hover = CONTEXT_GREY, f"{name} (not part of {report.authority.name})"
        xs, ys = _rings(row.geometry)
        fig.add_trace(
            go.Scatter(
                x=xs,
                y=ys,
                fill="toself",
                fillcolor=colour,
                mode="lines",
                line={"color": "#333" if is_own else "white", "width": 1},
                hoveron="fills",
                text=hover,
                hoverinfo="text",
                showlegend=False,
                name=name,
            )
        )
    pts = shapes[own].geometry.representative_point()
    labels = []
    names = dict(zip(values.index, values["district_name"], strict=True))  # configured names
    for code in shapes[own]["district_code"]:
        v = float(pct_by_code[code])
        name = html.escape(str(names[code]))
        labels.append(f"{name}<br>{v:.1f} %" if np.isfinite(v) else f"{name}<br>c")
    fig.add_trace(
        go.Scatter(
            x=pts.x,
            y=pts.y,
            mode="text",
            text=labels,
            hoverinfo="skip",
            textfont={"size": 10, "color": "#111"},
            showlegend=False,
        )
    )
    xmin, ymin, xmax, ymax = shapes[own].total_bounds
    if "role" in shapes.columns:
        context = shapes[shapes["role"] == "context"]
        cpts = context.geometry.representative_point()
        inside = (cpts.x > xmin) & (cpts.x < xmax) & (cpts.y > ymin) & (cpts.y < ymax)
        fig.add_trace(
            go.Scatter(
                x=cpts.x[inside],
                y=cpts.y[inside],
                mode="text",
                text=[html.escape(str(n)) for n in context["district_name"][inside]],
                hoverinfo="skip",
                textfont={"size": 10, "color": "#6b6b6b"},
                showlegend=False,
            )
        )
    lo, hi = scale.low, scale.high
    steps = np.linspace(lo, hi, 11)
    colourscale = [[(s - lo) / (hi - lo), scale.hex(s)] for s in steps]
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="markers",
            hoverinfo="skip",
            showlegend=False,
            marker={
                "colorscale": colourscale,
                "cmin": lo,
                "cmax": hi,
                "color": [lo],
                "colorbar": {"title": {"text": "% within<br>20 miles"}, "thickness": 14},
            },
        )
    )
    pad = 3000
    fig.update_xaxes(visible=False, range=[xmin - pad, xmax + pad])
    fig.update_yaxes(visible=False, range=[ymin - pad, ymax + pad], scaleanchor="x", scaleratio=1)
    return _layout(fig, height=560)


def _rings(geom: Any) -> tuple[list[float | None], list[float | None]]:
    """Exterior rings of a (multi)polygon as one x/y list with ``None`` breaks (EPSG:27700)."""
    polys = getattr(geom, "geoms", [geom])
    xs: list[float | None] = []
    ys: list[float | None] = []
    for p in polys:
        x, y = p.exterior.coords.xy
        xs += [round(v) for v in x] + [None]
        ys += [round(v) for v in y] + [None]
    return xs, ys
