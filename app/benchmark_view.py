"""The benchmark as the CLI, the Benchmark page and the report show it: the published tables
beside the authority's own data on the DfE definitions (after disclosure control), built once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import pandas as pd

from geo.disclosure import protect_district_table, protect_own_measures
from geo.errors import InputError
from geo.measures import (
    AuthorityRef,
    DfeTables,
    analyse,
    benchmark,
    district_compliance,
    find_authority,
    latest_year_end,
    own_data_rows,
    own_dfe_measures,
    population_for,
    published_for,
    read_dfe_tables,
    reconciliation,
    year_end,
)
from geo.measures.cell_keys import dataset_secret
from geo.spatial import Authority
from geo.ssda903 import PlacementData, latest_date


@dataclass(frozen=True)
class OwnComparison:
    """The authority's own data at 31 March ``year`` on the DfE definitions."""

    year: int
    published_year: int  # the published year shown beside it (``year`` when published)
    population_year: int | None  # the year of the published population used for rates
    own: pd.DataFrame  # measure, number, denominator, value; "c" where hidden
    rows: pd.DataFrame  # the own_data rows of the long benchmark table
    reconciliation: pd.DataFrame
    hidden_cells: int
    data_ends: date
    asked_year: int | None = None

    def notes(self) -> list[str]:
        out = [
            f"Own data: children looked after at 31 March {self.year} on the DfE definitions "
            "(UASC included, short breaks left out, not-known distances in the denominator); "
            "c: a count of 0 to 6 children not shown (every count of 1 to 5); other counts may "
            "differ by up to 2 (the cell-key method, as on every page), and percentages are worked "
            "out from the shown counts."
        ]
        if self.asked_year is not None and self.asked_year != self.year:
            out.append(
                f"The data ends on {self.data_ends:%d/%m/%Y}, before the year ending 31 March "
                f"{self.asked_year}: the latest 31 March it reaches, {self.year}, is used."
            )
        if year_end(self.year) > self.data_ends:
            out.append(
                f"The data ends on {self.data_ends:%d/%m/%Y}: a child whose episode is still open "
                f"then is counted as looked after at 31 March {self.year}."
            )
        if self.published_year != self.year:
            out.append(
                f"The DfE tables hold no figures for {self.year}; the nearest published year, "
                f"{self.published_year}, is shown beside it."
            )
        if self.population_year is not None and self.population_year != self.year:
            out.append(
                f"Rates per 10,000 use the DfE's published child population for "
                f"{self.population_year} (none is published for {self.year})."
            )
        return out


def own_comparison(
    data: PlacementData,
    authority: Authority,
    tables: DfeTables,
    ref: AuthorityRef,
    *,
    year: int | None = None,
    secret: bytes | None = None,
) -> OwnComparison:
    """Own data at 31 March of ``year`` (when the data reaches into the year ending then; else,
    and by default, the latest 31 March the data reaches) beside the published figures and placemap's headline at that date. Raises
    :class:`InputError` when the data reaches no 31 March or no child is looked after then."""
    last = latest_date(data)
    # A return for the year ending 31 March Y usually ends before that day: the year is usable
    # when the data reaches into it. Without a year, the latest 31 March the data reaches.
    reaches = year is not None and date(year - 1, 4, 1) <= last
    chosen = year if year is not None and reaches else latest_year_end(last)
    result = analyse(data, authority, as_at=year_end(chosen))
    if not len(result.placements):
        raise InputError(
            f"No child is looked after at 31 March {chosen} in the placement data (latest date "
            f"{last:%d/%m/%Y}): the DfE measures are taken at 31 March. Give a return that "
            "covers a 31 March."
        )
    population_year, population = population_for(tables, ref.code, chosen)
    own = own_dfe_measures(result.placements, data.episodes, year=chosen, population=population)
    # the cell-key method, as every page; the secret is the dataset's (as the app derives it)
    secret = dataset_secret(data.episodes["CHILD"]) if secret is None else secret
    shown = protect_own_measures(own, secret=secret, year=chosen)
    included = result.placements[result.placements["cohort"] == "included"]
    keyed = district_compliance(included, authority, by="home", with_keys=True)
    definition = ("compliance", "home", year_end(chosen), "all", "all", "all", "all")
    total = protect_district_table(keyed, secret=secret, definition=definition).iloc[-1]
    headline = {  # placemap's headline as the Compliance map shows it for that date
        "children": total["children"],
        "pct_within_20": total["pct_within_20"],
        "not_known": total["not_known"],
    }
    published_year, published = published_for(tables, ref.code, chosen)
    return OwnComparison(
        year=chosen,
        published_year=published_year,
        population_year=population_year,
        own=shown.table,
        rows=own_data_rows(shown.table, year=chosen, area_code=ref.code, area_name=ref.name),
        reconciliation=_hidden_as_c(
            reconciliation(
                shown.table,
                year=chosen,
                published_year=published_year,
                published=published,
                headline=headline,
            )
        ),
        hidden_cells=shown.hidden_cells,
        data_ends=last,
        asked_year=year,
    )


def _hidden_as_c(table: pd.DataFrame) -> pd.DataFrame:
    """A headline figure worked out from a hidden count reads c, not NaN."""
    col = table["placemap_headline"].astype(object)
    missing = col.map(lambda v: isinstance(v, float) and v != v)
    return table.assign(placemap_headline=col.where(~missing, "c"))


@lru_cache(maxsize=1)
def packaged_tables() -> DfeTables:
    """The DfE tables placemap ships (read once per process; they never change while it runs)."""
    return read_dfe_tables()


@lru_cache(maxsize=8)
def authority_benchmark(code: str) -> tuple[AuthorityRef, pd.DataFrame]:
    """The authority and its long benchmark table over every published year (shipped tables)."""
    tables = packaged_tables()
    ref = find_authority(tables, code)
    return ref, benchmark(tables, ref.code)


def report_benchmark(authority: Authority) -> pd.DataFrame | None:
    """The ranks table (:func:`geo.measures.ranks`) the district comparison report shows for
    ``authority``; None for a region or England, or an authority the DfE tables do not list."""
    from geo.measures import ranks
    from geo.spatial import AreaKind

    if authority.area_kind == AreaKind.AUTHORITY:
        return None
    try:
        _ref, bench = authority_benchmark(authority.code)
    except InputError:
        return None
    return ranks(bench)
