"""Case 10: England's coverage model against ``placemap analyse`` on the same files.

Both run in a new process each (peak memory is the process's own maximum RSS, measured by
:func:`benchmarks.analyse_cli.run_child`), interleaved in the same run. The model's process
reads the files and analyses them untimed, then times :func:`geo.coverage.build_coverage`
(suitable pairs, the exact maximum assignment, 2SFCA/E2SFCA, area reach) and ``result()``
(every table): what ``placemap coverage`` adds to ``analyse``. Its peak RSS is taken right
after that, before the correctness check: the gap must equal the one a plain scipy max-flow over
every suitable pair gives (the model as it was before the speed work).

``python -m benchmarks.coverage_model FOLDER AS_AT OUT.json`` runs the model's process.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.analyse_cli import CLI, ChildRun, run_child
from benchmarks.inputs import Scale
from benchmarks.timing import CaseResult, Row, fmt_s, median

PEAK_TARGET_BYTES = 3 * 1024**3
RATIO_TARGET = 3.0


def measure(folder: str, as_at: str) -> dict[str, Any]:
    """The model's process (see module docstring)."""
    from datetime import date

    from geo.coverage import build_coverage, max_flow_assignment
    from geo.measures.analysis import analyse
    from geo.spatial.authority import load_authority
    from geo.ssda903 import read_placements
    from geo.ssda903.carers import read_carers

    files = {k: Path(folder) / f"{k}.csv" for k in ("episodes", "header", "uasc", "carers")}
    authority = load_authority()
    data = read_placements(files["episodes"], header=files["header"], uasc=files["uasc"])
    analysis = analyse(data, authority, as_at=date.fromisoformat(as_at))
    register = read_carers(files["carers"], as_at=analysis.as_at)
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start, cpu = time.perf_counter(), time.process_time()
    coverage = build_coverage(analysis, register)
    built = time.perf_counter()
    result = coverage.model.result()
    done, cpu_done = time.perf_counter(), time.process_time()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    model = coverage.model
    reference = max_flow_assignment(model.adjacency, model.matching.capacity)
    return {
        "build_s": built - start,
        "result_s": done - built,
        "seconds": done - start,
        "cpu_s": cpu_done - cpu,
        "peak_rss_bytes": peak_kb * 1024,
        "rss_before_bytes": before_kb * 1024,
        "gap": int(result.gap),
        "reference_gap": int((reference < 0).sum()),
        "children": len(model.demand),
        "carers": int(result.carers),
        "pairs": int(model.adjacency.nnz),
    }


def run(source: Scale, workdir: Path, *, runs: int) -> CaseResult:
    res = CaseResult("10", "England's coverage model against analyse on the same files")
    files = source.files
    as_at = source.as_at.isoformat()
    analyse_argv = [
        sys.executable,
        "-c",
        CLI,
        "analyse",
        "--placements",
        str(files["episodes"]),
        "--header",
        str(files["header"]),
        "--uasc",
        str(files["uasc"]),
        "--as-at",
        as_at,
        "--out",
        str(workdir / "model-analyse-out"),
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    analysed: list[ChildRun] = []
    models: list[dict[str, Any]] = []
    for i in range(max(1, runs)):
        analysed.append(run_child(analyse_argv, env=env))
        out = workdir / f"model-{i}.json"
        child = run_child(
            [
                sys.executable,
                "-m",
                "benchmarks.coverage_model",
                str(source.folder),
                as_at,
                str(out),
            ],
            env=env,
        )
        if child.returncode != 0:
            raise RuntimeError(f"coverage model benchmark failed:\n{child.stderr}")
        models.append(json.loads(out.read_text()))
    failed = [r for r in analysed if r.returncode != 0]
    if failed:
        raise RuntimeError(f"analyse failed:\n{failed[0].stderr}")
    last = models[-1]
    res.check(
        f"{source.name}: the model's gap is a plain max-flow's over every suitable pair",
        last["gap"] == last["reference_gap"],
        f"model {last['gap']:,}, scipy max-flow {last['reference_gap']:,} children",
    )
    model_s = [m["seconds"] for m in models]
    analyse_s = [r.seconds for r in analysed]
    peak = max(m["peak_rss_bytes"] for m in models)
    ratio = median(model_s) / median(analyse_s)
    cpu_ratio = median([m["cpu_s"] for m in models]) / median([r.cpu_seconds for r in analysed])
    res.rows.append(
        Row(
            case="10",
            name=f"coverage model build + tables, {source.name}",
            size=f"{last['children']:,} children × {last['carers']:,} carers ({source.label}), "
            f"{last['pairs']:,} suitable pairs",
            project_s=median(model_s),
            project_runs=model_s,
            baseline="placemap analyse on the same files (new process)",
            baseline_s=median(analyse_s),
            baseline_runs=analyse_s,
            target="≤ 3× analyse, peak ≤ 3 GB",
            met=bool(ratio <= RATIO_TARGET and peak <= PEAK_TARGET_BYTES),
            note=f"{ratio:.2f}× analyse (CPU time: {cpu_ratio:.2f}×, model "
            f"{fmt_s(median([m['cpu_s'] for m in models]))}, analyse "
            f"{fmt_s(median([r.cpu_seconds for r in analysed]))}); build {fmt_s(median([m['build_s'] for m in models]))} "
            f"+ tables {fmt_s(median([m['result_s'] for m in models]))}; peak RSS "
            f"{peak / 1024**3:.2f} GB (files read and analysed: "
            f"{last['rss_before_bytes'] / 1024**3:.2f} GB); analyse peak "
            f"{max(r.peak_rss_bytes for r in analysed) / 1024**3:.2f} GB; gap {last['gap']:,}",
            extra={
                "ratio_to_analyse": ratio,
                "cpu_ratio_to_analyse": cpu_ratio,
                "cpu_s": [m["cpu_s"] for m in models],
                "analyse_cpu_s": [r.cpu_seconds for r in analysed],
                "peak_rss_bytes": [m["peak_rss_bytes"] for m in models],
                "analyse_peak_rss_bytes": [r.peak_rss_bytes for r in analysed],
                "build_s": [m["build_s"] for m in models],
                "result_s": [m["result_s"] for m in models],
                "gap": last["gap"],
            },
        )
    )
    return res


def main(argv: list[str] | None = None) -> int:
    from geo.writing import atomic_write_bytes, json_bytes

    folder, as_at, out = argv if argv is not None else sys.argv[1:]
    atomic_write_bytes(Path(out), json_bytes(measure(folder, as_at)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
