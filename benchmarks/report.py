"""The results as JSON (``latest.json``) and as markdown tables (``latest.md``)."""

from __future__ import annotations

import math
from typing import Any

from benchmarks.timing import CaseResult, fmt_s


def _clean(obj: Any) -> Any:
    """JSON-safe: NaN and infinity become null."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    return obj


def to_json(meta: dict[str, Any], cases: list[CaseResult]) -> dict[str, Any]:
    return _clean(
        {
            **meta,
            "cases": [
                {
                    "case": c.case,
                    "title": c.title,
                    "seconds": c.seconds,
                    "error": c.error,
                    "rows": [r.to_json() for r in c.rows],
                    "checks": [vars(k) for k in c.checks],
                    "tables": [vars(t) for t in c.tables],
                }
                for c in cases
            ],
        }
    )


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return out


def _speedup(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:.2f}×" if value < 10 else f"{value:.0f}×"


def _target(target: str, met: bool | None) -> str:
    if not target:
        return ""
    return f"{target}: " + ("met" if met else "**not met**")


def to_markdown(meta: dict[str, Any], cases: list[CaseResult]) -> str:
    m = meta["machine"]
    v = m["versions"]
    lines = [
        f"# placemap benchmarks ({meta['mode']})",
        "",
        f"Run {meta['started']} on {m['cores']} cores ({m['cores_usable']} usable, {m['cpu']}), "
        f"{m['memory_gb']} GB RAM, Python {m['python']}; numpy {v['numpy']}, pandas "
        f"{v['pandas']}, scipy {v['scipy']}, shapely {v['shapely']}, geopandas "
        f"{v['geopandas']}, rtree {v['rtree']}, dash {v['dash']}, plotly {v['plotly']}. "
        f"Load average at start {m['load_average_start']}, at end {meta['load_average_end']} "
        f"(shared machine: expect noise). Commit {meta['commit']}. "
        f"Whole run {fmt_s(meta['duration_s'])}: `{meta['command']}`.",
        "",
        "Each figure is the median of the runs shown; the baseline runs in the same process "
        "and the same run, interleaved with the project's. Speed-up = baseline ÷ placemap "
        "(below 1: placemap is slower).",
        "",
    ]
    rows = []
    for c in cases:
        for r in c.rows:
            base = f"{r.baseline}: {fmt_s(r.baseline_s)}" if r.baseline else ""
            if r.baseline_runs and len(r.baseline_runs) > 1:
                base += f" ({len(r.baseline_runs)} runs)"
            rows.append(
                [
                    r.case,
                    r.name,
                    r.size,
                    f"{fmt_s(r.project_s)} ({len(r.project_runs)} run"
                    + ("s)" if len(r.project_runs) != 1 else ")"),
                    base,
                    _speedup(r.speedup),
                    _target(r.target, r.met),
                    r.note,
                ]
            )
        if c.error:
            rows.append([c.case, c.title, "", "**failed**", "", "", "", c.error])
    lines += _table(
        [
            "#",
            "benchmark",
            "data",
            "placemap (median)",
            "baseline (median)",
            "speed-up",
            "target",
            "note",
        ],
        rows,
    )
    checks = [k for c in cases for k in c.checks]
    if checks:
        lines += ["", "## Checks", ""]
        lines += [
            f"* {'✔' if k.ok else '✘ FAILED'} [{k.case}] {k.name}"
            + (f" — {k.detail}" if k.detail else "")
            for k in checks
        ]
    for c in cases:
        for t in c.tables:
            lines += ["", f"## {t.title}", ""]
            lines += _table(t.columns, t.rows)
            if t.note:
                lines += ["", t.note]
    return "\n".join(lines) + "\n"
