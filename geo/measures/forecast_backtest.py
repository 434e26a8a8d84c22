"""Backtest of the demand forecast (issue 19): forecasts made 1 and 2 years before the as-at
date, from the history known then, compared with the census that happened, per district and in
total, beside two naive forecasts — persistence (the stock at the forecast date) and a linear
trend (least squares over the quarterly stocks of the reference window, extended)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from geo.measures.forecast import (
    INTERVAL,
    MIN_HISTORY_QUARTERS,
    StateHistory,
    estimate_rates,
    project,
)

BACKTEST_COLUMNS = [
    "lag_years",
    "forecast_from",
    "district_code",
    "district_name",
    "actual",
    "forecast",
    "lower_80",
    "upper_80",
    "within_80",
    "persistence",
    "trend",
    "error",
    "persistence_error",
    "trend_error",
]
METHODS = {"model": "error", "persistence": "persistence_error", "trend": "trend_error"}


def backtest(
    history: StateHistory,
    *,
    lags_years: tuple[int, ...] = (1, 2),
    reference_years: float = 3.0,
    draws: int = 1000,
    seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Backtest rows (:data:`BACKTEST_COLUMNS`, districts then the authority total per lag) and
    a summary per lag: mean absolute error over districts and the total's error for the model,
    persistence and trend, and the share of districts whose actual count fell in the 80 %
    interval. A lag without a year of history before its forecast date is skipped, with the
    reason in the summary."""
    last = len(history.dates) - 1
    actual = history.stock(last).sum(axis=1)
    names = history.names()
    codes = [*history.areas, history.authority.code]
    frames: list[pd.DataFrame] = []
    summary: dict[str, Any] = {}
    for lag in lags_years:
        origin = last - 4 * lag
        key = f"{lag}_year"
        if origin < MIN_HISTORY_QUARTERS:
            summary[key] = {
                "skipped": f"needs a year of history before {_date_back(history, lag)}; the "
                f"history starts {history.dates[0].isoformat()}"
            }
            continue
        past = history.until(origin)
        rates = estimate_rates(past, reference_years=reference_years)
        proj = project(
            past.stock(origin),
            rates,
            start=past.dates[-1],
            quarters=4 * lag,
            draws=draws,
            seed=seed,
        )
        fc = proj.expected[-1].sum(axis=1)
        sims = proj.draws[:, -1].sum(axis=2)
        sims = np.concatenate([sims, sims.sum(axis=1, keepdims=True)], axis=1)
        lo, hi = np.quantile(sims, INTERVAL, axis=0)
        first = origin - rates.quarters
        stocks = np.array([past.stock(t).sum(axis=1) for t in range(first, origin + 1)], float)
        trend = _linear_trend(stocks, ahead=4 * lag)
        persist = stocks[-1]
        row = {
            "actual": np.append(actual, actual.sum()),
            "forecast": np.round(np.append(fc, fc.sum()), 1),
            "lower_80": np.floor(lo).astype(int),
            "upper_80": np.ceil(hi).astype(int),
            "persistence": np.append(persist, persist.sum()),
            "trend": np.round(np.append(trend, trend.sum()), 1),
        }
        frame = pd.DataFrame(
            {
                "lag_years": lag,
                "forecast_from": past.dates[-1].isoformat(),
                "district_code": codes,
                "district_name": [names.get(c, c) for c in codes],
                **row,
            }
        )
        frame["within_80"] = (frame["actual"] >= frame["lower_80"]) & (
            frame["actual"] <= frame["upper_80"]
        )
        frame["error"] = np.round(frame["forecast"] - frame["actual"], 1)
        frame["persistence_error"] = frame["persistence"] - frame["actual"]
        frame["trend_error"] = np.round(frame["trend"] - frame["actual"], 1)
        frames.append(frame[BACKTEST_COLUMNS])
        summary[key] = _summarise(frame, past.dates[-1].isoformat(), rates.quarters)
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame({c: pd.Series(dtype=object) for c in BACKTEST_COLUMNS})
    )
    return rows, summary


def _date_back(history: StateHistory, lag: int) -> str:
    return (pd.Timestamp(history.dates[-1]) - pd.DateOffset(years=lag)).date().isoformat()


def _linear_trend(stocks: np.ndarray, *, ahead: int) -> np.ndarray:
    """Least-squares line through each area's quarterly stocks (rows = quarters), extended
    ``ahead`` quarters past the last; never below 0."""
    x = np.arange(len(stocks), dtype=float)
    slope, intercept = np.polyfit(x, stocks, 1)
    return np.maximum(intercept + slope * (x[-1] + ahead), 0.0)


def _summarise(frame: pd.DataFrame, origin: str, quarters: int) -> dict[str, Any]:
    districts = frame.iloc[:-1]
    total = frame.iloc[-1]
    actual_total = float(total["actual"])
    out: dict[str, Any] = {
        "forecast_from": origin,
        "reference_quarters": quarters,
        "actual_total": int(actual_total),
        "districts_within_80_pct": round(100.0 * float(districts["within_80"].mean()), 1),
        "total_within_80": bool(total["within_80"]),
    }
    for method, column in METHODS.items():
        err = districts[column].astype(float)
        out[method] = {
            "district_mean_absolute_error": round(float(err.abs().mean()), 1),
            "district_mean_absolute_pct_error": round(
                float((err.abs() / districts["actual"].where(districts["actual"] > 0)).mean())
                * 100.0,
                1,
            ),
            "total_error": round(float(total[column]), 1),
            "total_pct_error": round(100.0 * float(total[column]) / actual_total, 1)
            if actual_total
            else None,
        }
    return out
