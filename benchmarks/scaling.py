"""Case 7: how coverage-count time grows with children × carers.

Random subsets of the national children and carers (the same share of each, so the spatial
spread is kept), timed with the project's default :func:`geo.spatial.catchments.pairs_within` method;
the largest point is the full national run of case 3. The fitted exponent ``k`` of
``time ∝ (children × carers)^k`` (least squares on log-log) says whether the method is as good
as its output allows: the number of pairs within 20 miles itself grows like children × carers,
so ``k`` near 1 is the floor for any method that lists the pairs.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from benchmarks.coverage_counts import project_counts
from benchmarks.inputs import Scale
from benchmarks.timing import CaseResult, Row, Table, fmt_s, median, seconds
from geo.spatial.catchments import DEFAULT_METHOD


def fit_exponent(x: list[float], y: list[float]) -> float:
    """Slope of log(y) against log(x) (least squares); NaN with fewer than two points."""
    if len(x) < 2:
        return float("nan")
    slope, _ = np.polyfit(np.log(np.asarray(x, float)), np.log(np.asarray(y, float)), 1)
    return float(slope)


def run(
    national: Scale,
    *,
    shares: tuple[float, ...],
    runs: tuple[int, ...],
    full: dict[str, float] | None,
) -> CaseResult:
    res = CaseResult("7", "Scaling: coverage-count time against children × carers")
    rng = np.random.default_rng(7)
    points: list[tuple[int, int, int, float, list[float]]] = []
    for share, k in zip(shares, runs, strict=True):
        nc = max(1, int(round(len(national.children) * share)))
        nk = max(1, int(round(len(national.carers) * share)))
        children = national.children.take(np.sort(rng.choice(len(national.children), nc, False)))
        carers = national.carers.take(np.sort(rng.choice(len(national.carers), nk, False)))
        ts = []
        n_pairs = 0
        for _ in range(max(1, k)):
            t, (_, keys) = seconds(partial(project_counts, children, carers, DEFAULT_METHOD))
            ts.append(t)
            n_pairs = len(keys)
        points.append((nc, nk, n_pairs, median(ts), ts))
    if full is not None:
        points.append(
            (
                int(full["children"]),
                int(full["carers"]),
                int(full["pairs"]),
                float(full["seconds"]),
                [float(full["seconds"])],
            )
        )
    product = [float(c * k) for c, k, _, _, _ in points]
    times = [t for _, _, _, t, _ in points]
    pairs = [float(p) for _, _, p, _, _ in points]
    k_product = fit_exponent(product, times)
    k_pairs = fit_exponent(pairs, times)
    res.tables.append(
        Table(
            case="7",
            title=f"Scaling of coverage counts ({DEFAULT_METHOD.value}, {national.label} subsets)",
            columns=[
                "children",
                "carers",
                "children × carers",
                "pairs ≤ 20 mi",
                "median",
                "ns per pair",
            ],
            rows=[
                [
                    f"{c:,}",
                    f"{k:,}",
                    f"{c * k:.3g}",
                    f"{p:,}",
                    fmt_s(t),
                    f"{t / max(p, 1) * 1e9:.0f}",
                ]
                for c, k, p, t, _ in points
            ],
            note=f"Fitted exponent: time ∝ (children × carers)^{k_product:.2f}; "
            f"time ∝ pairs^{k_pairs:.2f}. The largest row is case 3's full national run.",
        )
    )
    c, k, p, t, ts = points[-1]
    res.rows.append(
        Row(
            case="7",
            name="scaling exponent of coverage counts",
            size=f"{len(points)} sizes, up to {c:,} × {k:,}",
            project_s=t,
            project_runs=ts,
            note=f"time ∝ (children × carers)^{k_product:.2f}, ∝ pairs^{k_pairs:.2f}",
            extra={
                "exponent_children_x_carers": k_product,
                "exponent_pairs": k_pairs,
                "points": [
                    {"children": c_, "carers": k_, "pairs": p_, "seconds": t_, "runs": r_}
                    for c_, k_, p_, t_, r_ in points
                ],
            },
        )
    )
    return res
