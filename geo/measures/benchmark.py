"""How does an authority compare? Its published figures beside its DfE statistical neighbours,
their median, its region and England, year by year (pure functions on :class:`DfeTables`).

Values stay as the DfE publishes them (text: a number, or a symbol such as ``c``); a neighbour
with a symbol is shown with its symbol and left out of the median and the rank, never counted as
0. A neighbour with no row for a year (an authority created later) is shown as ``x``. Neighbours
are matched by the DfE's three-digit number, so an authority whose GSS code changed (Somerset
``E10000027`` -> ``E06000066`` in 2023) keeps its figures for every year; numbers replaced by a
successor (Poole -> Bournemouth, Christchurch and Poole) follow it, and a number split between
successors (Cumbria, Northamptonshire) is reported with a note instead of being dropped.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.measures.dfe_tables import (
    MEASURE_BY_NAME,
    MEASURES,
    NUMBER_SPLITS,
    NUMBER_SUCCESSION,
    DfeTables,
    current_code,
    is_number,
)

AREA_TYPES = (
    "authority",
    "statistical_neighbour",
    "statistical_neighbours_median",
    "region",
    "england",
    "own_data",
)
BENCHMARK_COLUMNS = ["year", "area_type", "area_code", "area_name", "measure", "value"]
RANK_COLUMNS = [
    "year", "measure", "value", "rank", "ranked", "neighbours_median", "region", "england",
    "higher_is_better",
]  # fmt: skip
NOT_AVAILABLE = "x"  # the DfE's own symbol for "not available"


@dataclass(frozen=True)
class AuthorityRef:
    """An English local authority as the DfE tables know it."""

    code: str  # GSS code now
    name: str
    la_number: str  # DfE three-digit number
    region_code: str
    region_name: str


def find_authority(tables: DfeTables, code: str) -> AuthorityRef:
    """The authority with GSS ``code`` (an earlier code of the same council works too, e.g.
    ``E10000027`` for Somerset) or DfE number (``886``). Raises :class:`InputError` naming the
    code when no English authority in the tables has it."""
    asked = code.strip().upper()
    la = tables.values[tables.values["level"] == "authority"].sort_values("year")
    if asked.isdigit():
        match = la[la["la_number"] == asked]
    else:
        match = la[la["area_code"] == current_code(asked)]
    if match.empty:
        years = tables.years
        raise InputError(
            f"'{code}' is not an English local authority in the DfE tables "
            f"({la['area_code'].nunique()} authorities, {years[0]}-{years[-1]}). Give the GSS "
            "code of a county, unitary, metropolitan or London borough council with children's "
            "services (Kent E10000016, Medway E06000035), not a district."
        )
    last = match.iloc[-1]
    reg = tables.regions[tables.regions["area_code"] == last["area_code"]]
    return AuthorityRef(
        code=str(last["area_code"]),
        name=str(last["area_name"]),
        la_number=str(last["la_number"]),
        region_code=str(reg["region_code"].iloc[0]) if len(reg) else "",
        region_name=str(reg["region_name"].iloc[0]) if len(reg) else "",
    )


def statistical_neighbours(tables: DfeTables, code: str) -> pd.DataFrame:
    """The authority's statistical neighbours in rank order: ``sn_rank, la_number, area_code,
    area_name, note`` (``area_code`` empty and ``note`` saying why when the DfE number has no
    single authority now)."""
    ref = find_authority(tables, code)
    sn = tables.neighbours[tables.neighbours["la_number"] == ref.la_number]
    la = tables.values[tables.values["level"] == "authority"].sort_values("year")
    latest = la.drop_duplicates("la_number", keep="last").set_index("la_number")
    rows = []
    for r in sn.itertuples(index=False):
        number = str(r.sn_la_number)
        note = ""
        if number in NUMBER_SUCCESSION:
            note = f"DfE number {number} ({r.sn_la_name}) is now {NUMBER_SUCCESSION[number]}"
            number = NUMBER_SUCCESSION[number]
        if number in latest.index:
            code_now, name = (
                str(latest.at[number, "area_code"]),
                str(latest.at[number, "area_name"]),
            )
        else:
            code_now, name = "", str(r.sn_la_name)
            note = NUMBER_SPLITS.get(number, f"DfE number {number} is not in the published tables")
        rows.append((int(str(r.sn_rank)), number, code_now, name, note))
    return pd.DataFrame(rows, columns=["sn_rank", "la_number", "area_code", "area_name", "note"])


def median_of(values: Iterable[str]) -> str:
    """Median of the published numbers among ``values`` (symbols left out), as text; ``x`` when
    none is a number."""
    nums = [float(v) for v in values if is_number(v)]
    return format_number(float(np.median(nums))) if nums else NOT_AVAILABLE


def rank_of(value: str, others: Sequence[str]) -> tuple[int | None, int]:
    """``value``'s rank among itself and ``others`` (1 = highest; ties share the better rank)
    and how many were ranked; symbols are not ranked (rank None when ``value`` is one)."""
    nums = [float(v) for v in others if is_number(v)]
    if not is_number(value):
        return None, len(nums)
    v = float(value)
    return 1 + sum(n > v for n in nums), len(nums) + 1


def format_number(x: float) -> str:
    """A number as the tables show it: whole numbers without a decimal, else one decimal."""
    return str(int(round(x))) if abs(x - round(x)) < 1e-9 else f"{x:.1f}"


def benchmark(
    tables: DfeTables,
    code: str,
    *,
    years: Sequence[int] | None = None,
    measures: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The long benchmark table (:data:`BENCHMARK_COLUMNS`) for the authority with ``code``:
    for each published year (or ``years``) and measure (or ``measures``, names from
    :data:`geo.measures.dfe_tables.MEASURES`), the authority, each statistical neighbour in rank
    order, the neighbours' median, the region and England. Raises :class:`InputError` for an
    unknown authority, measure or year."""
    ref = find_authority(tables, code)
    names = list(measures) if measures else [m.name for m in MEASURES]
    unknown = [n for n in names if n not in MEASURE_BY_NAME]
    if unknown:
        raise InputError(
            f"Unknown measure(s) {', '.join(unknown)}; known: {', '.join(MEASURE_BY_NAME)}."
        )
    all_years = tables.years
    wanted = list(years) if years else all_years
    missing = [y for y in wanted if y not in all_years]
    if missing:
        raise InputError(
            f"No DfE figures for {', '.join(map(str, missing))}: the tables hold "
            f"{all_years[0]}-{all_years[-1]} (years ending 31 March). Give --dfe-data with a "
            "newer file of the same layout for a later year."
        )
    v = tables.values[tables.values["measure"].isin(names) & tables.values["year"].isin(wanted)]
    la = v[v["level"] == "authority"]
    by_number = {
        key: dict(zip(zip(g["year"], g["measure"], strict=True), g["value"], strict=True))
        for key, g in la.groupby("la_number")
    }
    region = v[(v["level"] == "region") & (v["area_code"] == ref.region_code)]
    england = v[v["level"] == "england"]
    sn = statistical_neighbours(tables, ref.code)
    rows: list[tuple[int, str, str, str, str, str]] = []
    for year in wanted:
        for name in names:
            own = by_number.get(ref.la_number, {}).get((year, name), NOT_AVAILABLE)
            rows.append((year, "authority", ref.code, ref.name, name, own))
            sn_values = []
            for n in sn.itertuples(index=False):
                value = by_number.get(str(n.la_number), {}).get((year, name), NOT_AVAILABLE)
                sn_values.append(value)
                rows.append((year, "statistical_neighbour", str(n.area_code), str(n.area_name),
                             name, value))  # fmt: skip
            rows.append((year, "statistical_neighbours_median", "",
                         f"Median of {ref.name}'s {len(sn)} statistical neighbours", name,
                         median_of(sn_values)))  # fmt: skip
            for area_type, frame, label in (("region", region, ref.region_name),
                                            ("england", england, "England")):  # fmt: skip
                hit = frame[(frame["year"] == year) & (frame["measure"] == name)]
                code_ = str(hit["area_code"].iloc[0]) if len(hit) else ""
                value = str(hit["value"].iloc[0]) if len(hit) else NOT_AVAILABLE
                rows.append((year, area_type, code_, label, name, value))
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)


def ranks(bench: pd.DataFrame) -> pd.DataFrame:
    """From a :func:`benchmark` table: per year and measure, the authority's value, its rank
    among itself and its neighbours (1 = highest), how many were ranked, the neighbours' median,
    region and England, and which way is better (:data:`RANK_COLUMNS`)."""
    rows = []
    for (year, name), g in bench.groupby(["year", "measure"], sort=True):

        def pick(area_type: str, g: pd.DataFrame = g) -> str:
            hit = g.loc[g["area_type"] == area_type, "value"]
            return str(hit.iloc[0]) if len(hit) else NOT_AVAILABLE

        value = pick("authority")
        others = g.loc[g["area_type"] == "statistical_neighbour", "value"].astype(str).tolist()
        rank, ranked = rank_of(value, others)
        better = MEASURE_BY_NAME[str(name)].higher_is_better
        rows.append((int(str(year)), str(name), value, rank, ranked,
                     pick("statistical_neighbours_median"), pick("region"), pick("england"),
                     "" if better is None else ("higher" if better else "lower")))  # fmt: skip
    out = pd.DataFrame(rows, columns=RANK_COLUMNS)
    out["rank"] = out["rank"].astype("Int64")
    return out
