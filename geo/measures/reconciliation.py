"""The authority's own SSDA903 data measured on the DfE's published definitions, beside the DfE's
published figure and placemap's headline measure.

The DfE definitions (Children looked after in England, years ending 31 March):

* **children looked after**: every child looked after at 31 March, UASC included; children
  looked after only under an agreed series of short-term placements (short breaks, ``LS`` V3/V4)
  are not counted by the DfE at 31 March and are left out here too;
* **distance**: of those children, % placed 20 miles or less, more than 20 miles, and not known
  (not-known stays in the denominator);
* **foster**: % whose placement at 31 March is foster care (``PLACE`` U1-U6);
* **3+ placements**: % of those children with three or more placements during the year ending
  31 March, counting each episode in the year except changes of legal status only (``RNE`` L);
* **rates per 10,000**: count / the DfE's published child population (0-17) x 10,000; starts
  are children with an episode that starts a period of care (``RNE`` S) in the year, once each.

Own values are given to one decimal; the DfE rounds to whole numbers.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from geo.measures.benchmark import BENCHMARK_COLUMNS, NOT_AVAILABLE, format_number
from geo.measures.dfe_tables import MEASURE_BY_NAME, DfeTables, is_number
from geo.ssda903 import FOSTER_PLACES, SHORT_BREAK_LS

OWN_COLUMNS = ["measure", "number", "denominator", "value"]
RECONCILIATION_COLUMNS = [
    "measure", "label", "own_number", "own_denominator", "own_dfe_definition", "published_year",
    "published_value", "placemap_headline", "why_own_differs_from_published",
    "why_headline_differs",
]  # fmt: skip
_DISTANCE = ("pct_within_20_miles", "pct_over_20_miles", "pct_not_known")


def year_end(year: int) -> date:
    """31 March of ``year``: the DfE's census date for the year ending then."""
    return date(year, 3, 31)


def latest_year_end(last: date) -> int:
    """The year of the latest 31 March on or before ``last``."""
    return last.year if (last.month, last.day) >= (3, 31) else last.year - 1


def own_dfe_measures(
    placements: pd.DataFrame,
    episodes: pd.DataFrame,
    *,
    year: int,
    population: float | None,
) -> pd.DataFrame:
    """The DfE measures (:data:`OWN_COLUMNS`, one row per measure) from the authority's own data.

    ``placements``: the per-child distance table of the census at 31 March ``year``
    (:func:`geo.measures.distance_table`, every cohort: ``CHILD, LS, PLACE, distance_miles,
    within_20``). ``episodes``: the validated SSDA903 episodes (``CHILD, DECOM, DEC, RNE, LS``).
    ``population``: the DfE's published 0-17 population for the authority (None: rates are not
    computed). A value that cannot be computed from the data is ``None`` (shown as ``x``).
    """
    short = placements["LS"].isin(SHORT_BREAK_LS).fillna(False).to_numpy(dtype=bool)
    cla = placements[~short]
    n = len(cla)
    known = cla["distance_miles"].notna()
    within = int(cla["within_20"].fillna(False).astype(bool).sum())
    counts: dict[str, tuple[int | None, float | None]] = {
        "children_looked_after": (n, None),
        "pct_within_20_miles": (within, n),
        "pct_over_20_miles": (int(known.sum()) - within, n),
        "pct_not_known": (int((~known).sum()), n),
        "pct_foster": (int(cla["PLACE"].isin(FOSTER_PLACES).sum()), n),
        "pct_3plus_placements": (_three_plus(cla["CHILD"], episodes, year), n),
        "cla_per_10000": (n, population),
        "starts_per_10000": (_starts(episodes, year), population),
    }
    rows: list[tuple[str, int | None, float | None, float | None]] = []
    for name, (num, den) in counts.items():
        if name == "children_looked_after":
            rows.append((name, num, None, float(num) if num is not None else None))
            continue
        scale = 100.0 if MEASURE_BY_NAME[name].unit == "%" else 10_000.0
        value = round(scale * num / den, 1) if num is not None and den else None
        rows.append((name, num, den, value))
    return pd.DataFrame(rows, columns=OWN_COLUMNS)


def _year_window(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(year - 1, 4, 1), pd.Timestamp(year_end(year))


def _has_rne(episodes: pd.DataFrame) -> bool:
    return "RNE" in episodes and bool(
        episodes["RNE"].astype("string").str.strip().fillna("").ne("").any()
    )


def _three_plus(children: pd.Series, episodes: pd.DataFrame, year: int) -> int | None:
    """Children among ``children`` with 3+ placements in the year ending 31 March ``year``."""
    if not _has_rne(episodes):
        return None  # one row per child: the placement history is not in the data
    start, end = _year_window(year)
    ep = episodes[episodes["CHILD"].isin(set(children))]
    in_year = ep[(ep["DECOM"] <= end) & (ep["DEC"].isna() | (ep["DEC"] >= start))]
    in_year = in_year.sort_values(["CHILD", "DECOM"], kind="stable")
    first = ~in_year["CHILD"].duplicated()
    moves = in_year["RNE"].astype("string").str.strip().ne("L").fillna(True)
    placements = (first | moves).groupby(in_year["CHILD"]).sum()
    return int((placements >= 3).sum())


def _starts(episodes: pd.DataFrame, year: int) -> int | None:
    """Children starting to be looked after in the year (once each; short breaks left out)."""
    if not _has_rne(episodes):
        return None
    start, end = _year_window(year)
    rne = episodes["RNE"].astype("string").str.strip()
    short = episodes["LS"].isin(SHORT_BREAK_LS).fillna(False)
    hit = (rne == "S") & ~short & (episodes["DECOM"] >= start) & (episodes["DECOM"] <= end)
    return int(episodes.loc[hit.fillna(False), "CHILD"].nunique())


def published_for(tables: DfeTables, code: str, year: int) -> tuple[int, dict[str, str]]:
    """The DfE's published values for authority ``code``: for ``year`` when published, else for
    the nearest published year (returned first)."""
    years = tables.years
    shown = year if year in years else min(years, key=lambda y: (abs(y - year), -y))
    v = tables.values
    hit = v[(v["level"] == "authority") & (v["area_code"] == code) & (v["year"] == shown)]
    return shown, dict(zip(hit["measure"], hit["value"], strict=True))


def population_for(tables: DfeTables, code: str, year: int) -> tuple[int | None, float | None]:
    """The published 0-17 population for ``code`` in ``year`` (or the nearest year published)."""
    p = tables.population[tables.population["area_code"] == code]
    p = p[p["population"].map(is_number)]
    if p.empty:
        return None, None
    best = p.loc[(p["year"] - year).abs().sort_values(kind="stable").index[0]]
    return int(best["year"]), float(best["population"])


def reconciliation(
    own: pd.DataFrame,
    *,
    year: int,
    published_year: int,
    published: dict[str, str],
    headline: dict[str, Any],
) -> pd.DataFrame:
    """Own data on the DfE definitions beside the published figure and placemap's headline
    (:data:`RECONCILIATION_COLUMNS`), with one sentence each on why they differ. ``own`` is
    :func:`own_dfe_measures` (possibly with ``c`` from disclosure control); ``headline`` is
    ``Analysis.summary["headline"]`` for the same 31 March."""
    same_year = published_year == year
    rows = []
    for r in own.itertuples(index=False):
        name = str(r.measure)
        m = MEASURE_BY_NAME[name]
        pub = published.get(name, "x")
        if same_year:
            why_pub = (
                "Same definition and year: a gap comes from the data (the DfE figure is the "
                "return as first submitted, rounded to whole numbers; later corrections, "
                "a different set of records or an approximation of the DfE count here move it)."
            )
        else:
            why_pub = (
                f"Your data holds 31 March {year}, which the DfE tables do not: the published "
                f"figure is for {published_year}, so it differs by year as well as by data."
            )
        hl: object = ""
        why_hl = "placemap has no headline for this measure."
        if name == "pct_within_20_miles":
            hl = headline.get("pct_within_20")
            why_hl = (
                "placemap's headline leaves out UASC and short breaks and divides by children "
                "with a known distance; the DfE counts every child looked after at 31 March, "
                "UASC included, with not-known distances in the denominator."
            )
        elif name == "pct_not_known":
            n = headline.get("children") or 0
            hl = round(100 * headline.get("not_known", 0) / n, 1) if n else ""

            why_hl = (
                "placemap reports not-known distances apart from its headline percentage "
                "(UASC and short breaks left out); the DfE keeps them in its denominator."
            )
        elif name == "children_looked_after":
            hl = headline.get("children")
            why_hl = (
                "placemap's headline cohort leaves out unaccompanied asylum-seeking children "
                "and short breaks; the DfE count includes UASC."
            )
        elif name in _DISTANCE:
            why_hl = "placemap's headline is the share within 20 miles only."
        den = "" if name == "children_looked_after" else _text(r.denominator)
        rows.append((name, m.label, _text(r.number), den, _text(r.value),
                     published_year, pub, hl,
                     why_pub, why_hl))  # fmt: skip
    return pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)


def _text(value: object) -> str:
    """A number as text (whole numbers without a decimal), ``c`` kept, missing as ``x``."""
    if isinstance(value, str):
        return value
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return NOT_AVAILABLE
    return format_number(float(value))  # type: ignore[arg-type]


def own_data_rows(own: pd.DataFrame, *, year: int, area_code: str, area_name: str) -> pd.DataFrame:
    """``own`` (after disclosure control) as ``area_type == "own_data"`` rows of the long
    benchmark table (:data:`geo.measures.BENCHMARK_COLUMNS`)."""
    return pd.DataFrame(
        {
            "year": year,
            "area_type": "own_data",
            "area_code": area_code,
            "area_name": f"{area_name} (own data, DfE definitions)",
            "measure": own["measure"].astype(str).to_numpy(),
            "value": [_text(v) for v in own["value"]],
        },
        columns=BENCHMARK_COLUMNS,
    )
