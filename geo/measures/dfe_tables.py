"""The DfE's published tables by local authority, region and England, read into one long table.

Department for Education, "Children looked after in England including adoptions" (years ending
31 March): distance between home and placement, placement types, rates per 10,000 and placement
stability, plus the DfE statistical neighbour groupings. placemap ships a small copy in
``data/dfe/`` (package resource ``geo.resources``, see its PROVENANCE.md); a newer file of the
same layout in a folder the caller names replaces the shipped one of the same file name.

Values are kept **as published**: text holding a number, or one of the DfE's symbols (``c``
suppressed, ``z`` not applicable, ``x`` not available, ``k`` rounds to 0, ``u`` low
reliability, ``low``, ``:``) or empty (not published for that row). A symbol is never turned into
0. A row whose value is neither a number nor a symbol is left out and reported in ``rejects``
(file, row, column, value, reason).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from geo.errors import InputError
from geo.resources import resource

# DfE / explore-education-statistics symbols (and empty: not published for that row).
SYMBOLS = frozenset(["c", "z", "x", "k", "u", "low", ":", ""])
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_GSS = re.compile(r"E\d{8}")
_YEAR = re.compile(r"\d{4}")
ENGLAND_CODE = "E92000001"
LONDON_CODE = "E12000007"
# Inner / Outer London (DfE's sub-regions, E13) sit in the London region for "its region".
_SUB_REGIONS = {"E13000001": LONDON_CODE, "E13000002": LONDON_CODE}

# GSS codes an authority used before a reorganisation -> its code now (same council, same DfE
# number): Somerset and North Yorkshire became unitary on 1 April 2023.
CODE_SUCCESSION = {"E10000027": "E06000066", "E10000023": "E06000065"}
# DfE numbers replaced by one successor (Dorset, Poole and Bournemouth, April 2019).
NUMBER_SUCCESSION = {"835": "838", "836": "839", "837": "839"}
# DfE numbers split between successors: no single authority carries their figures.
NUMBER_SPLITS = {
    "909": "Cumbria (split on 1 April 2023 into Cumberland and Westmorland and Furness)",
    "928": "Northamptonshire (split on 1 April 2021 into North and West Northamptonshire)",
}

LEVELS = {"Local authority": "authority", "Regional": "region", "National": "england"}


@dataclass(frozen=True)
class Measure:
    """One published measure: where it is read and which way is better (None: neither)."""

    name: str
    label: str
    unit: str
    file: str
    selector: str  # column naming the row's characteristic
    selects: str  # the characteristic this measure is
    value_column: str  # "percentage", "rate_per_10000" or "number"
    higher_is_better: bool | None


DISTANCE_FILE = "cla_distance_home_to_placement.csv"
TYPES_FILE = "cla_placement_types.csv"
RATES_FILE = "cla_rates_per_10000.csv"
STABILITY_FILE = "cla_placement_stability.csv"
NEIGHBOURS_FILE = "statistical_neighbours.csv"
CLA_31_MARCH = "Children looked after on 31 March each year"

MEASURES: tuple[Measure, ...] = (
    Measure("pct_within_20_miles", "% placed 20 miles or less from home", "%", DISTANCE_FILE,
            "characteristic", "Placed 20 miles or less from home", "percentage", True),
    Measure("pct_over_20_miles", "% placed more than 20 miles from home", "%", DISTANCE_FILE,
            "characteristic", "Placed more than 20 miles from home", "percentage", False),
    Measure("pct_not_known", "% distance not known or not recorded", "%", DISTANCE_FILE,
            "characteristic", "Distance not known or not recorded", "percentage", False),
    Measure("cla_per_10000", "Children looked after at 31 March per 10,000 children",
            "per 10,000", RATES_FILE, "measure", CLA_31_MARCH, "rate_per_10000", None),
    Measure("starts_per_10000", "Children starting to be looked after per 10,000 children",
            "per 10,000", RATES_FILE, "measure", "Children starting to be looked after each year",
            "rate_per_10000", None),
    Measure("pct_foster", "% in foster placements", "%", TYPES_FILE, "characteristic",
            "Foster placements", "percentage", True),
    Measure("pct_3plus_placements", "% with 3 or more placements during the year", "%",
            STABILITY_FILE, "placement_stability", "With 3 or more placements during the year",
            "percentage", False),
    Measure("children_looked_after", "Children looked after at 31 March", "children",
            RATES_FILE, "measure", CLA_31_MARCH, "number", None),
)  # fmt: skip
MEASURE_BY_NAME = {m.name: m for m in MEASURES}
DATA_FILES = (DISTANCE_FILE, TYPES_FILE, RATES_FILE, STABILITY_FILE)
_AREA_COLUMNS = ["time_period", "geographic_level", "geo_breakdown", "new_la_code", "old_la_code"]
NEIGHBOUR_COLUMNS = ["old_la_code", "sn_rank", "sn_la_name", "sn_old_la_code"]
VALUE_COLUMNS = [
    "year", "level", "area_code", "area_name", "la_number", "measure", "number", "value",
]  # fmt: skip
REJECT_COLUMNS = ["file", "row", "column", "value", "reason"]


@dataclass(frozen=True)
class DfeTables:
    """The published tables, long: one row per year, area and measure.

    ``values``: :data:`VALUE_COLUMNS` (``level`` authority / region / england; ``number`` and
    ``value`` as published text). ``population``: year, area_code, children aged 0-17 (ONS
    mid-year estimate as published). ``regions``: area_code -> region_code, region_name.
    ``neighbours``: la_number, sn_rank, sn_la_number, sn_la_name. ``sources``: file -> where it
    was read from. ``rejects``: rows left out, with file, row, column, value and reason.
    """

    values: pd.DataFrame
    population: pd.DataFrame
    regions: pd.DataFrame
    neighbours: pd.DataFrame
    sources: dict[str, str] = field(default_factory=dict)
    rejects: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECT_COLUMNS))

    @property
    def years(self) -> list[int]:
        return sorted(int(y) for y in self.values["year"].unique())


def is_number(value: object) -> bool:
    """True when ``value`` is a published number (not a symbol, not empty)."""
    return isinstance(value, str) and bool(_NUMBER.fullmatch(value.strip()))


def current_code(code: str) -> str:
    """The GSS code an authority uses now (``E10000027`` Somerset -> ``E06000066``)."""
    code = code.strip().upper()
    return CODE_SUCCESSION.get(code, code)


def read_dfe_tables(folder: str | Path | None = None) -> DfeTables:
    """Read the DfE tables: each file from ``folder`` when it holds one of that name, else the
    copy shipped in ``data/dfe/``.

    Raises :class:`InputError` when ``folder`` is not a folder, holds none of the files, or a file
    lacks a column this reader needs (the message names the file and the columns).
    """
    texts: dict[str, tuple[str, str]] = {}
    names = (*DATA_FILES, NEIGHBOURS_FILE)
    if folder is not None:
        root = Path(folder)
        if not root.is_dir():
            raise InputError(
                f"--dfe-data '{root}' is not a folder. Give the folder holding the DfE tables "
                f"({', '.join(names)})."
            )
        found = [n for n in names if (root / n).is_file()]
        if not found:
            raise InputError(
                f"No DfE table in '{root}': expected one or more of {', '.join(names)} (the "
                "layout of the DfE's published CSV files)."
            )
        for n in found:
            texts[n] = (str(root / n), (root / n).read_text(encoding="utf-8-sig"))
    for n in names:
        if n not in texts:
            node = resource("dfe", n)
            texts[n] = (f"placemap data/dfe/{n}", node.read_text(encoding="utf-8-sig"))
    return parse_dfe_tables({n: t for n, (_, t) in texts.items()},
                            sources={n: s for n, (s, _) in texts.items()})  # fmt: skip


def parse_dfe_tables(texts: dict[str, str], *, sources: dict[str, str] | None = None) -> DfeTables:
    """:func:`read_dfe_tables` on text already in memory (``{file name: CSV text}``)."""
    sources = sources or {n: n for n in texts}
    rejects: list[dict[str, object]] = []
    frames: dict[str, pd.DataFrame] = {}
    for name in DATA_FILES:
        needed = _needed_columns(name)
        frames[name] = _read_csv(texts[name], name, needed, rejects)
    rates = frames[RATES_FILE]
    region_names = _region_names(rates)
    parts = [_measure_rows(frames[m.file], m, region_names) for m in MEASURES]
    values = pd.concat(parts, ignore_index=True)[VALUE_COLUMNS]
    la = rates[rates["geographic_level"] == "Local authority"]
    population = pd.DataFrame(
        {
            "year": la["time_period"].astype(int),
            "area_code": la["new_la_code"],
            "population": la["population_estimate"],
        }
    ).drop_duplicates(["year", "area_code"], keep="last")
    latest = la.sort_values("time_period").drop_duplicates("new_la_code", keep="last")
    region_code = latest["region_code"].map(lambda c: _SUB_REGIONS.get(c, c))
    regions = pd.DataFrame(
        {
            "area_code": latest["new_la_code"].to_numpy(),
            "region_code": region_code.to_numpy(),
            "region_name": region_code.map({v: k for k, v in region_names.items()}).to_numpy(),
        }
    )
    sn = _read_csv(texts[NEIGHBOURS_FILE], NEIGHBOURS_FILE, NEIGHBOUR_COLUMNS, rejects)
    neighbours = pd.DataFrame(
        {
            "la_number": sn["old_la_code"].str.strip(),
            "sn_rank": pd.to_numeric(sn["sn_rank"], errors="coerce"),
            "sn_la_number": sn["sn_old_la_code"].str.strip(),
            "sn_la_name": sn["sn_la_name"],
        }
    )
    bad_rank = neighbours["sn_rank"].isna()
    for row in sn.index[bad_rank]:
        rejects.append(_reject(NEIGHBOURS_FILE, row, "sn_rank", sn.at[row, "sn_rank"],
                               "not a whole number"))  # fmt: skip
    neighbours = neighbours[~bad_rank].astype({"sn_rank": int})
    return DfeTables(
        values=values,
        population=population.reset_index(drop=True),
        regions=regions,
        neighbours=neighbours.sort_values(["la_number", "sn_rank"]).reset_index(drop=True),
        sources=dict(sources),
        rejects=pd.DataFrame(rejects, columns=REJECT_COLUMNS),
    )


def _needed_columns(name: str) -> list[str]:
    cols = [*_AREA_COLUMNS, "number"]
    for m in MEASURES:
        if m.file == name:
            cols += [m.selector, m.value_column]
    if name == RATES_FILE:
        cols += ["region_code", "region_name", "population_estimate"]
    return list(dict.fromkeys(cols))


def _reject(name: str, row: object, column: str, value: object, reason: str) -> dict[str, object]:
    # Row numbers as a spreadsheet shows them: the header is row 1.
    return {"file": name, "row": int(row) + 2, "column": column, "value": value, "reason": reason}  # type: ignore[call-overload]


def _read_csv(
    text: str, name: str, needed: Iterable[str], rejects: list[dict[str, object]]
) -> pd.DataFrame:
    """Rows of one file with ``needed`` columns as stripped text; bad rows go to ``rejects``."""
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as err:
        raise InputError(f"{name} is not a readable CSV file ({err}).") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise InputError(
            f"{name} lacks the column(s) {', '.join(missing)}: it is not in the layout of the "
            f"DfE's published table (columns found: {', '.join(frame.columns) or 'none'})."
        )
    frame = frame[list(needed)].apply(lambda s: s.str.strip())
    bad = pd.Series(False, index=frame.index)
    if "time_period" in frame:
        wrong = ~frame["time_period"].str.fullmatch(_YEAR.pattern)
        for row in frame.index[wrong]:
            rejects.append(_reject(name, row, "time_period", frame.at[row, "time_period"],
                                   "not a year (YYYY)"))  # fmt: skip
        bad |= wrong
        wrong = ~frame["geographic_level"].isin(list(LEVELS))
        for row in frame.index[wrong & ~bad]:
            rejects.append(_reject(name, row, "geographic_level", frame.at[row, "geographic_level"],
                                   f"not one of {', '.join(LEVELS)}"))  # fmt: skip
        bad |= wrong
        is_la = frame["geographic_level"] == "Local authority"
        frame.loc[is_la, "new_la_code"] = (
            frame.loc[is_la, "new_la_code"].str.upper().map(current_code)
        )
        wrong = is_la & ~frame["new_la_code"].str.fullmatch(_GSS.pattern)
        for row in frame.index[wrong & ~bad]:
            rejects.append(_reject(name, row, "new_la_code", frame.at[row, "new_la_code"],
                                   "not an English GSS code (E and eight digits)"))  # fmt: skip
        bad |= wrong
    for col in ("number", "percentage", "rate_per_10000", "population_estimate"):
        if col not in frame:
            continue
        v = frame[col]
        wrong = ~v.str.fullmatch(_NUMBER.pattern) & ~v.str.lower().isin(SYMBOLS)
        for row in frame.index[wrong & ~bad]:
            rejects.append(_reject(name, row, col, v.at[row],
                                   "neither a number nor a DfE symbol (c, z, x, k, u, low, :)"))  # fmt: skip
        bad |= wrong
        frame[col] = v.where(v.str.fullmatch(_NUMBER.pattern), v.str.lower())
    return frame[~bad]


def _region_names(rates: pd.DataFrame) -> dict[str, str]:
    """Region name -> GSS code, from the rates table (the only one that carries them)."""
    pairs = rates.loc[
        rates["region_code"].str.fullmatch(r"E1[23]\d{6}"), ["region_name", "region_code"]
    ]
    names = dict(zip(pairs["region_name"], pairs["region_code"], strict=False))
    names.setdefault("London", LONDON_CODE)
    return names


def _measure_rows(frame: pd.DataFrame, m: Measure, region_names: dict[str, str]) -> pd.DataFrame:
    rows = frame[frame[m.selector] == m.selects]
    level = rows["geographic_level"].map(LEVELS)
    code = rows["new_la_code"].where(level == "authority", "")
    code = code.where(level != "england", ENGLAND_CODE)
    is_region = level == "region"
    code[is_region] = rows.loc[is_region, "geo_breakdown"].map(region_names).fillna("")
    out = pd.DataFrame(
        {
            "year": rows["time_period"].astype(int),
            "level": level,
            "area_code": code,
            "area_name": rows["geo_breakdown"].where(level != "england", "England"),
            "la_number": rows["old_la_code"].where(level == "authority", ""),
            "measure": m.name,
            "number": rows["number"],
            "value": rows[m.value_column],
        }
    )
    # A later row for the same year and area (a revised file) wins.
    return out.drop_duplicates(["year", "level", "area_code", "area_name"], keep="last")
