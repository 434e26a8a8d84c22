"""The ``messy`` demo: deliberate faults of the recipe's ``messy`` section, each listed.

Postcode faults (malformed, not in ONSPD, without a grid reference) sit on current episodes, so
the census keeps those children with a distance "not known"; date, code and identifier faults
make the readers reject the row; carer faults are reported by the carers reader. Each fault is
one row of ``faults.csv`` (``FAULT_COLUMNS``), with the spreadsheet row (header = 1).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from geo.demo.pools import spaced
from geo.spatial import postcodes as pc

FAULT_COLUMNS = ["file", "row", "column", "value", "fault", "expected"]
_MALFORMED = ("{out} {inw_short}", "{out}{inw}X", "12345", "{out_o} {inw}", "{out} !{inw_tail}")


def inject_faults(
    tables: dict[str, pd.DataFrame],
    counts: Mapping[str, Any],
    rng: np.random.Generator,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, tuple[int, ...]]]:
    """Copy ``tables`` with the faults of the recipe's ``messy`` section; list each one."""
    ep = tables["episodes"].copy()
    faults: list[dict[str, object]] = []
    used: set[int] = set()

    def rows(pool: np.ndarray, k: int) -> list[int]:
        cand = [int(p) for p in rng.permutation(pool) if int(p) not in used][:k]
        used.update(cand)
        return cand

    def note(file: str, pos: int, column: str, value: str, fault: str, expected: str) -> None:
        faults.append(
            {
                "file": file,
                "row": pos + 2,  # spreadsheet row: header is row 1
                "column": column,
                "value": value,
                "fault": fault,
                "expected": expected,
            }
        )

    def count(name: str) -> int:
        return int(counts.get(name, 0))

    # Postcode faults sit on current episodes so they show in the census as "not known".
    current = np.flatnonzero(ep["DEC"].fillna("").to_numpy() == "")
    not_known = "kept; distance not known"
    for i, pos in enumerate(rows(current, count("malformed_postcode"))):
        col = ("HOME_POST", "PL_POST")[i % 2]
        good = str(ep.at[pos, col])
        out, inw = good.split(" ")
        bad = _MALFORMED[i % len(_MALFORMED)].format(
            out=out, inw=inw, inw_short=inw[:2], out_o=out.replace("1", "I"), inw_tail=inw[1:]
        )
        if pc.is_valid_format(pd.Series([bad])).iloc[0]:
            bad = out + " " + inw[:2]
        ep.at[pos, col] = bad
        note("episodes.csv", pos, col, bad, "malformed postcode", not_known + " (invalid_postcode)")
    for i, pos in enumerate(rows(current, count("unknown_postcode"))):
        col = ("PL_POST", "HOME_POST")[i % 2]
        bad = _unknown_postcode(str(ep.at[pos, col]).split(" ")[0])
        ep.at[pos, col] = bad
        note(
            "episodes.csv",
            pos,
            col,
            bad,
            "postcode not in ONSPD",
            not_known + " (unknown_postcode)",
        )
    no_grid = _no_grid_postcodes(rng, count("no_grid_reference_postcode"))
    for i, pos in enumerate(rows(current, len(no_grid))):
        col = ("PL_POST", "HOME_POST")[i % 2]
        ep.at[pos, col] = no_grid[i]
        note(
            "episodes.csv",
            pos,
            col,
            no_grid[i],
            "terminated/non-geographic postcode without grid reference",
            not_known + " (unknown_postcode)",
        )

    everyone = np.arange(len(ep))
    closed = np.flatnonzero(ep["DEC"].fillna("").to_numpy() != "")
    rejected = "row rejected"
    for pos in rows(everyone, count("missing_start_date")):
        ep.at[pos, "DECOM"] = ""
        note("episodes.csv", pos, "DECOM", "", "missing start date", rejected)
    impossible = ("31/02/2018", "2018-13-45", "00/05/2017")
    for i, pos in enumerate(rows(closed, count("impossible_date"))):
        col = ("DECOM", "DEC")[i % 2]
        ep.at[pos, col] = impossible[i % len(impossible)]
        note("episodes.csv", pos, col, impossible[i % len(impossible)], "impossible date", rejected)
    for pos in rows(closed, count("ends_before_start")):
        start = pd.to_datetime(str(ep.at[pos, "DECOM"]), format="%d/%m/%Y")
        bad = (start - pd.Timedelta(days=30)).strftime("%d/%m/%Y")
        ep.at[pos, "DEC"] = bad
        note("episodes.csv", pos, "DEC", bad, "episode ends before it starts", rejected)
    for name, col, value in (
        ("unknown_place", "PLACE", "U9"),
        ("unknown_legal_status", "LS", "X9"),
        ("unknown_provider", "PLACE_PROVIDER", "PR9"),
    ):
        for pos in rows(everyone, count(name)):
            ep.at[pos, col] = value
            note("episodes.csv", pos, col, value, f"unknown {col} code", rejected)
    for pos in rows(everyone, count("blank_child")):
        ep.at[pos, "CHILD"] = ""
        note("episodes.csv", pos, "CHILD", "", "blank child identifier", rejected)
    overlong = tuple(sorted(rows(everyone, count("too_many_fields"))))
    for pos in overlong:
        note("episodes.csv", pos, "", "EXTRA", "row has one field too many", rejected)

    header = tables["header"].copy()
    used.clear()
    for pos in rows(np.arange(len(header)), count("header_invalid_sex")):
        header.at[pos, "SEX"] = "3"
        note("header.csv", pos, "SEX", "3", "invalid SEX code", rejected)
    for pos in rows(np.arange(len(header)), count("header_impossible_dob")):
        header.at[pos, "DOB"] = "31/11/2009"
        note("header.csv", pos, "DOB", "31/11/2009", "impossible date", rejected)
    uasc = tables["uasc"].copy()
    used.clear()
    for pos in rows(np.arange(len(uasc)), count("uasc_impossible_duc")):
        uasc.at[pos, "DUC"] = "30/02/2018"
        note("uasc.csv", pos, "DUC", "30/02/2018", "impossible date", rejected)

    carers = tables["carers"].copy()
    used.clear()
    flagged = "carer row reported by the carers reader"
    approved = np.flatnonzero(carers["STATUS"].to_numpy() == "approved")
    for i, pos in enumerate(rows(approved, count("carers_malformed_postcode"))):
        bad = ("TN1", "ME99 9ZZZ")[i % 2]
        carers.at[pos, "POSTCODE"] = bad
        note("carers.csv", pos, "POSTCODE", bad, "malformed postcode", flagged)
    for pos in rows(approved, count("carers_occupied_over_approved")):
        bad = str(int(str(carers.at[pos, "APPROVED_PLACES"])) + 2)
        carers.at[pos, "OCCUPIED_PLACES"] = bad
        note(
            "carers.csv", pos, "OCCUPIED_PLACES", bad, "more places occupied than approved", flagged
        )
    for pos in rows(approved, count("carers_unknown_status")):
        carers.at[pos, "STATUS"] = "pending"
        note("carers.csv", pos, "STATUS", "pending", "unknown status", flagged)
    for pos in rows(approved, count("carers_unknown_category")):
        bad = str(carers.at[pos, "CATEGORIES"]) + ";teenagers"
        carers.at[pos, "CATEGORIES"] = bad
        note("carers.csv", pos, "CATEGORIES", bad, "unknown category", flagged)

    frame = pd.DataFrame(faults, columns=FAULT_COLUMNS)
    frame = frame.sort_values(["file", "row", "column"], kind="stable").reset_index(drop=True)
    tables = {"episodes": ep, "header": header, "uasc": uasc, "carers": carers}
    return tables, frame.astype("string"), {"episodes.csv": overlong} if overlong else {}


def _unknown_postcode(outcode: str) -> str:
    """A postcode of valid shape in ``outcode`` that ONSPD does not list."""
    for inward in ("9ZZ", "0ZZ", "9ZY", "8ZZ", "9YZ", "0ZY"):
        cand = f"{outcode} {inward}"
        if pc.lookup(pd.Series([cand])).status.iloc[0] == pc.PostcodeStatus.UNKNOWN.value:
            return cand
    return "ZZ99 9ZZ"  # pragma: no cover - pseudo-postcode, never in ONSPD


def _no_grid_postcodes(rng: np.random.Generator, k: int) -> list[str]:
    """Real ONSPD postcodes that have no grid reference (terminated or non-geographic)."""
    if k <= 0:
        return []
    table = pc.reference_table(["C", "D", "M", "T"])
    missing = table.index[~np.isfinite(table["easting_m"].to_numpy(float))].to_numpy(dtype=object)
    missing = np.sort(missing[[len(x) >= 5 for x in missing]])
    if not len(missing):  # pragma: no cover - depends on the ONSPD release
        return []
    pick = rng.choice(len(missing), size=min(k, len(missing)), replace=False)
    return list(spaced(missing[np.sort(pick)]))
