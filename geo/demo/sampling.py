"""Sampling and date helpers shared by the generator's stages.

Quotas are exact (largest remainder) and draws without replacement are weighted, so the
generated counts hit the recipe's targets instead of landing near them by chance.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

DAY = np.timedelta64(1, "D")


def quota(shares: Mapping[str, float], total: int) -> dict[str, int]:
    """Split ``total`` by ``shares`` (largest remainder, so the counts add up exactly)."""
    keys = list(shares)
    w = np.array([max(float(shares[k]), 0.0) for k in keys])
    if total <= 0 or w.sum() == 0:
        return {k: 0 for k in keys}
    exact = w / w.sum() * total
    counts = np.floor(exact).astype(int)
    rest = total - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:rest]] += 1
    return dict(zip(keys, counts.tolist(), strict=True))


def take(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability ∝ ``weights``
    (Efraimidis-Spirakis keys). Items of weight 0 are only used when the others run out."""
    if k <= 0:
        return np.zeros(0, dtype=int)
    w = np.asarray(weights, dtype=float)
    u = rng.random(len(w))
    with np.errstate(divide="ignore"):
        keys = np.where(w > 0, np.log(u) / np.where(w > 0, w, 1.0), -np.inf)
    # Zero-weight items rank after all positive ones, in random order.
    keys = np.where(np.isfinite(keys), keys, -1e300 * (1 + u))
    if k >= len(w):
        return np.argsort(-keys, kind="stable")
    top = np.argpartition(-keys, k - 1)[:k]
    return top[np.argsort(-keys[top], kind="stable")]


def categorical(rng: np.random.Generator, shares: Mapping[str, float], n: int) -> np.ndarray:
    """``n`` keys of ``shares`` drawn independently with probability ∝ their share."""
    keys = list(shares)
    p = np.array([float(shares[k]) for k in keys])
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def gumbel_pick(rng: np.random.Generator, log_w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Row-wise weighted pick (column index) among ``valid`` columns; -1 where none is valid."""
    g = -np.log(-np.log(rng.random(log_w.shape)))
    score = np.where(valid, log_w + g, -np.inf)
    pick = np.argmax(score, axis=1)
    return np.where(valid.any(axis=1), pick, -1)


def fmt_dates(days: np.ndarray) -> np.ndarray:
    """datetime64[D] (NaT allowed) -> 'dd/mm/yyyy' ('' for NaT)."""
    d = np.asarray(days, dtype="datetime64[D]")
    # Few distinct days: format each once.
    unique, inverse = np.unique(d, return_inverse=True)
    text = np.array(
        ["" if np.isnat(u) else u.item().strftime("%d/%m/%Y") for u in unique], dtype=object
    )
    return text[inverse.reshape(-1)]


def minus_years(days: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The same calendar day ``years`` earlier (29 February -> 28 February)."""
    ts = pd.DatetimeIndex(np.asarray(days, dtype="datetime64[D]"))
    day = np.where((ts.month == 2) & (ts.day == 29), 28, ts.day)
    out = pd.to_datetime(
        pd.DataFrame({"year": ts.year - np.asarray(years, int), "month": ts.month, "day": day})
    )
    return out.to_numpy().astype("datetime64[D]")


def age_at(dob: np.ndarray, when: np.datetime64 | np.ndarray) -> np.ndarray:
    """Whole years of age (as the census computes it)."""
    d = pd.DatetimeIndex(np.asarray(dob, dtype="datetime64[D]"))
    w = pd.DatetimeIndex(np.broadcast_to(np.asarray(when, dtype="datetime64[D]"), d.shape))
    before = (w.month < d.month) | ((w.month == d.month) & (w.day < d.day))
    return np.asarray(w.year - d.year - before.astype(int))
