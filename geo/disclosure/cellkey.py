"""The cell-key method: consistent perturbation of every count a commissioner or a shared output
can obtain (DESIGN.md §7; docs/DISCLOSURE.md gives the design, the attack and the utility cost).

Each child has a fixed record key (:mod:`geo.measures.cell_keys`); a count's cell key is the sum
of its children's record keys modulo 256. The published perturbation table (:data:`PTABLE`)
turns (true count, cell key) into what is shown:

* a true **0** is shown as 0, or, for one cell in five, as ``c`` (the choice follows from the
  cell's *definition key*, a hash of what the cell counts, as an empty cell has no records);
* a true count of **1 to 5** is always shown as ``c`` (the DfE convention);
* a true **6** is shown as ``c`` for half of the cell keys, otherwise as 7 or 8;
* a true count of **7 or more** is shown as the count plus a small change from -2 to +2
  (probabilities 3 %, 17 %, 60 %, 17 %, 3 %), never below 6.

So ``c`` stands for "0 to 6, not shown", and a shown number is within 2 of the truth. The same
cell (the same children) always shows the same value on every page, card, hover text, download
and census date, so asking again or by another route gives nothing new, and adding and
subtracting shown figures gives noise instead of a child: an attacker who knows this table can
only bound a hidden cell between limits at least two apart (tests/app/disclosure/ pins this with
an exact linear-programming attack over every view the app offers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from geo.measures.cell_keys import KEY_SPACE, cell_key, record_keys

SUPPRESSED = "c"
DISTRICT_COUNTS = ("children", "known", "within_20", "within_10", "not_known")


@dataclass(frozen=True)
class PerturbationTable:
    """The published parameters of the perturbation (shown to users in docs and notes)."""

    changes: tuple[int, ...] = (-2, -1, 0, 1, 2)
    weights: tuple[float, ...] = (0.03, 0.17, 0.60, 0.17, 0.03)
    hidden_upto: int = 5  # 1..hidden_upto always c
    six_hidden_share: float = 0.5  # share of cell keys for which a true 6 is shown as c
    zero_hidden_share: float = 0.2  # share of definition keys for which a true 0 is c
    smallest_shown: int = 6

    @property
    def max_change(self) -> int:
        return max(abs(c) for c in self.changes)

    def bounds(self, shown: object) -> tuple[int, int]:
        """What an attacker who knows this table learns of the true count from one shown value:
        the smallest and largest true count that any cell key turns into ``shown``."""
        value = SUPPRESSED if shown == SUPPRESSED else int(shown)  # type: ignore[call-overload]
        return _bounds(self, value)


PTABLE = PerturbationTable()


@lru_cache(maxsize=4096)
def _bounds(table: PerturbationTable, shown: object) -> tuple[int, int]:
    top = table.smallest_shown + 1 if shown == SUPPRESSED else int(shown) + table.max_change  # type: ignore[call-overload]
    n = np.repeat(np.arange(top + 1), KEY_SPACE)
    k = np.tile(np.arange(KEY_SPACE), top + 1)
    out = perturb(n, k, definition_keys=k, table=table)
    hit = ~np.isfinite(out) if shown == SUPPRESSED else out == float(shown)  # type: ignore[arg-type]
    return int(n[hit].min()), int(n[hit].max())


_CAP = 1000  # counts above this share the row of the cap (the change does not depend on size)


def _position(n: np.ndarray, ckey: np.ndarray) -> np.ndarray:
    """A uniform position in [0, 1) from (count, cell key): the cell key shuffled by the count
    (a bijection of 0..255 for each count) so neighbouring counts do not move together."""
    n = np.minimum(np.asarray(n, dtype=np.int64), _CAP)
    k = np.asarray(ckey, dtype=np.int64) % KEY_SPACE
    return (((k * 167 + n * 97) % KEY_SPACE) + 0.5) / KEY_SPACE


def definition_key(parts: Iterable[object], *, secret: bytes) -> int:
    """A cell's definition key (0..255): a hash of what it counts (page, grouping, filters,
    area, measure) keyed by the dataset's secret (:func:`geo.measures.cell_keys.dataset_secret`),
    for counts that have no records of their own to key them (an empty cell shows 0 or ``c``; a
    coverage gap, which is not one fixed set of children). Without the secret an attacker
    cannot tell which way a cell will go."""
    text = "|".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=2, key=secret[:64]).digest()[0]


def perturb(
    counts: Sequence[float] | np.ndarray,
    ckeys: Sequence[int] | np.ndarray,
    *,
    definition_keys: Sequence[int] | np.ndarray | None = None,
    table: PerturbationTable = PTABLE,
) -> np.ndarray:
    """Shown values for true ``counts`` with cell keys ``ckeys``: a float array, NaN where the
    value is hidden (``c``) or the count is not known (NaN in, NaN out)."""
    n_f = np.asarray(counts, dtype=float)
    known = np.isfinite(n_f)
    n = np.where(known, n_f, 0).astype(np.int64)
    u = _position(n, np.asarray(ckeys, dtype=np.int64))
    out = n.astype(float)
    changes = np.asarray(table.changes)
    weights = np.asarray(table.weights, dtype=float)
    big = n >= table.smallest_shown + 1
    for value in np.unique(n[big]):
        rows = big & (n == value)
        allowed = changes >= table.smallest_shown - value
        w = weights[allowed] / weights[allowed].sum()
        pick = np.searchsorted(np.cumsum(w), u[rows], side="right").clip(max=allowed.sum() - 1)
        out[rows] = value + changes[allowed][pick]
    six = n == table.smallest_shown
    if six.any():
        hide6 = six & (u < table.six_hidden_share)
        allowed = changes >= 1
        w = weights[allowed] / weights[allowed].sum()
        # the rest of the position range, stretched back to [0, 1)
        v = (u - table.six_hidden_share) / (1 - table.six_hidden_share)
        pick = np.searchsorted(np.cumsum(w), v, side="right").clip(0, allowed.sum() - 1)
        out[six] = table.smallest_shown + changes[allowed][pick[six]]
        out[hide6] = np.nan
    small = (n >= 1) & (n <= table.hidden_upto)
    out[small] = np.nan
    if definition_keys is not None:
        d = np.asarray(definition_keys, dtype=np.int64)
        zero_hidden = (n == 0) & (((d + 0.5) / KEY_SPACE) < table.zero_hidden_share)
        out[zero_hidden] = np.nan
    out[~known] = np.nan
    return out


def shown_text(values: np.ndarray) -> list[str]:
    """``c`` for hidden, whole numbers with thousands separators otherwise."""
    return [SUPPRESSED if not np.isfinite(v) else f"{int(v):,}" for v in values]


def shown_count(value: float) -> str:
    """One shown (protected) count as text: ``c`` for hidden (NaN), else ``1,234``."""
    return shown_text(np.array([value], dtype=float))[0]


def protected_pct(part: ArrayLike, base: ArrayLike) -> np.ndarray:
    """A percentage from protected counts: NaN when either is hidden or the base is 0."""
    p = np.asarray(part, dtype=float)
    b = np.asarray(base, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(np.isfinite(p) & np.isfinite(b) & (b > 0), 100.0 * p / b, np.nan)
    return np.round(np.minimum(out, 100.0), 1)


PERTURBATION_NOTE = (
    "Disclosure control (cell-key method, as in ONS and ABS table builders): 'c' means a number "
    "from 0 to 6 that is not shown (every count of 1 to 5 children is 'c'); other counts may "
    "differ from the true count by up to 2, the same way every time they are shown, so parts "
    "may not add up exactly to totals. Percentages are worked out from these shown counts."
)


def protect_columns(
    table: pd.DataFrame,
    counts: Sequence[str],
    *,
    secret: bytes,
    definition: Sequence[object] = (),
    row_ids: Iterable[object] | None = None,
) -> pd.DataFrame:
    """``table`` with each count column ``x`` replaced by its shown value (float, NaN for
    ``c``), keyed by the ``x_ckey`` column beside it, or, where there is none (a count that is
    not one fixed set of records, such as a coverage gap), by its definition key; empty cells'
    definition keys come from ``definition`` + the row id + the column name."""
    out = table.copy()
    ids = list(row_ids) if row_ids is not None else list(table.index)
    for col in counts:
        defs = np.array(
            [definition_key([*definition, rid, col], secret=secret) for rid in ids], dtype=int
        )
        keys = table[f"{col}_ckey"].to_numpy() if f"{col}_ckey" in table else defs
        out[col] = perturb(table[col].to_numpy(float), keys, definition_keys=defs)
    return out


def protect_count(value: float, *, secret: bytes, cell: Sequence[object]) -> float:
    """One count with no records of its own (a gap, a plan's result), keyed by its definition:
    the shown value (NaN for ``c``)."""
    d = definition_key(cell, secret=secret)
    return float(perturb([value], [d], definition_keys=[d])[0])


def protect_children(ids: Iterable[object], *, secret: bytes, cell: Sequence[object]) -> float:
    """The count of one fixed set of children (their ``CHILD`` identifiers), keyed by their
    cell key, an empty set by the definition ``cell``: the shown value (NaN for ``c``)."""
    keys = record_keys(list(ids))
    d = definition_key(cell, secret=secret)
    return float(perturb([len(keys)], [cell_key(keys)], definition_keys=[d])[0])


def protect_district_table(
    table: pd.DataFrame,
    *,
    secret: bytes,
    definition: Sequence[object],
    extra_counts: Sequence[str] = (),
) -> pd.DataFrame:
    """A district table of the placement measure (:func:`geo.measures.district_compliance` with
    ``with_keys=True``) as it may be shown to anyone: every count perturbed (NaN = ``c``),
    percentages worked out from the shown counts, the median hidden with its children;
    ``extra_counts`` (placement kinds, the gap) the same way. Nothing else is hidden: no
    secondary suppression, so no district of 7+ children disappears. ``*_ckey`` columns are
    dropped."""
    counts = [c for c in (*DISTRICT_COUNTS, *extra_counts) if c in table.columns]
    ids = table["district_code"] if "district_code" in table.columns else table.index
    t = protect_columns(table, counts, secret=secret, definition=definition, row_ids=ids)
    for th in (20, 10):
        if f"within_{th}" in t and f"pct_within_{th}" in t:
            t[f"pct_within_{th}"] = protected_pct(t[f"within_{th}"], t["known"])
        if f"within_{th}" in t and f"pct_within_{th}_all" in t:
            t[f"pct_within_{th}_all"] = protected_pct(t[f"within_{th}"], t["children"])
    if "median_miles" in t:
        base = t["known"] if "known" in t else t["children"]
        t["median_miles"] = t["median_miles"].where(base.notna() & (base > 0), np.nan)
    return t.drop(columns=[c for c in t.columns if str(c).endswith("_ckey")])


def protect_trend(table: pd.DataFrame, *, secret: bytes) -> pd.DataFrame:
    """The long trend table (``quarter_end``, ``district_code``, counts with cell keys) with each
    quarter through :func:`protect_district_table`; row order kept. A quarter's counts are the
    same children as the district table at that census date, so they show the same values."""
    if table.empty:
        return table.drop(columns=[c for c in table.columns if str(c).endswith("_ckey")])
    parts = [
        protect_district_table(rows, secret=secret, definition=("trend", q))
        for q, rows in table.groupby("quarter_end", sort=False)
    ]
    return pd.concat(parts).loc[table.index]


def protect_gap(gap: ArrayLike, codes: Iterable[object], *, secret: bytes) -> np.ndarray:
    """The coverage gap by district as shown to anyone (comparison page, coverage and
    recruitment pages, reports): a gap is not one fixed set of children, so each district's
    cell is keyed by its definition ("coverage-gap", district code). NaN for ``c``."""
    frame = pd.DataFrame({"gap": np.asarray(gap, dtype=float)})
    return protect_columns(
        frame, ["gap"], secret=secret, definition=("coverage-gap",), row_ids=list(codes)
    )["gap"].to_numpy()
