"""Case 2: ``placemap analyse`` end to end (a new process: start-up, read, validate, census,
distances, district tables, atomic writes) with its peak memory.

Baseline: a minimal pandas script in its own process doing only the headline arithmetic (read
the CSVs, census at the as-at date, UASC and short breaks out, postcode merge, DfE miles,
% within 20 miles by home district) with no validation, no reject report and no reconciliation:
the floor a bare script gets to. Both report the same census, cohort and within-20 counts.
Peak memory is the process's maximum resident set size.

``python -m benchmarks.analyse_cli EPISODES UASC AS_AT OUT.json`` runs the baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks import validator as checker
from benchmarks.inputs import Scale, episodes_subset
from benchmarks.timing import CaseResult, Row, fmt_s, median
from geo.demo import write_demo
from geo.writing import atomic_write_bytes, json_bytes

CLI = "import sys; from app.cli import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class ChildRun:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stderr: str
    cpu_seconds: float = float("nan")  # user + system CPU of the process (robust to load)


# A small parent process runs the command: a child forked from the (large) benchmark process
# would count the benchmark's own pages in its peak RSS.
_MEASURE = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "cpu_s": usage.ru_utime + usage.ru_stime,
    "maxrss_kb": usage.ru_maxrss,
    "returncode": done.returncode,
    "stderr": done.stderr.decode(errors="replace")[-2000:],
}))
"""


def run_child(argv: list[str], *, env: dict[str, str] | None = None) -> ChildRun:
    """Run ``argv`` to completion: its wall seconds and its own peak RSS (Linux)."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv],
        capture_output=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        check=True,
    )
    got = json.loads(out.stdout)
    return ChildRun(
        got["seconds"],
        int(got["maxrss_kb"]) * 1024,
        int(got["returncode"]),
        got["stderr"],
        float(got["cpu_s"]),
    )


def baseline(episodes: str, uasc: str, as_at: str) -> dict[str, Any]:
    """The headline the bare-pandas way (see module docstring)."""
    import numpy as np
    import pandas as pd

    from geo.spatial import postcodes as pc

    when = pd.Timestamp(as_at)
    ep = pd.read_csv(episodes, dtype=str, keep_default_na=False)
    ua = pd.read_csv(uasc, dtype=str, keep_default_na=False)
    decom = pd.to_datetime(ep["DECOM"], format="%d/%m/%Y", errors="coerce")
    dec = pd.to_datetime(ep["DEC"].replace("", None), format="%d/%m/%Y", errors="coerce")
    current = ep[(decom <= when) & (dec.isna() | (dec >= when))].assign(_start=decom)
    current = current.sort_values("_start").drop_duplicates("CHILD", keep="last")
    duc = pd.to_datetime(ua["DUC"].replace("", None), format="%d/%m/%Y", errors="coerce")
    uasc_children = set(ua.loc[duc.isna() | (duc > when), "CHILD"])
    cohort = current[~current["CHILD"].isin(uasc_children) & ~current["LS"].isin(["V3", "V4"])]

    def compact(s: pd.Series) -> pd.Series:
        return s.str.upper().str.replace(" ", "", regex=False)

    home, placement = compact(cohort["HOME_POST"]), compact(cohort["PL_POST"])
    letters = set(home.str[0].dropna()) | set(placement.str[0].dropna())
    ref = pc.reference_table(sorted(letters)).rename_axis("pcd").reset_index()
    df = pd.DataFrame({"home": home.to_numpy(), "placement": placement.to_numpy()})
    df = df.merge(
        ref.rename(columns={"pcd": "home", "easting_m": "he", "northing_m": "hn"}),
        on="home",
        how="left",
    ).merge(
        ref.rename(columns={"pcd": "placement", "easting_m": "pe", "northing_m": "pn"})[
            ["placement", "pe", "pn"]
        ],
        on="placement",
        how="left",
    )
    miles = (
        np.sqrt((df["he"] - df["pe"]) ** 2 + (df["hn"] - df["pn"]) ** 2) / 1000 / 1.6093
    ).round(1)
    miles = miles.where(df["district_code"].str.startswith("E").fillna(False).astype(bool))
    df["within_20"] = miles <= 20.0
    by_district = df.groupby("district_code")["within_20"].mean().mul(100).round(1)
    return {
        "children_in_census": int(len(current)),
        "included": int(len(cohort)),
        "within_20": int(df["within_20"].sum()),
        "pct_within_20_by_district": by_district.to_dict(),
    }


def run(
    source: Scale,
    workdir: Path,
    *,
    episodes: int,
    runs: int,
    baseline_runs: int,
    validator: bool = False,
) -> CaseResult:
    """Time ``placemap analyse`` against the bare-pandas script and, with ``validator``, against
    the 903 validator's distance step (its own virtual environment, :mod:`benchmarks.validator`),
    every run interleaved in the same loop."""
    res = CaseResult("2", "placemap analyse end to end, with peak memory")
    sub = episodes_subset(source.demo, episodes=episodes)
    folder = workdir / "analyse-input"
    write_demo(folder, sub)
    n_episodes = len(sub.episodes)
    as_at = sub.as_at.isoformat()
    files = [str(folder / f) for f in ("episodes.csv", "header.csv", "uasc.csv")]
    project_argv = [
        sys.executable,
        "-c",
        CLI,
        "analyse",
        "--placements",
        files[0],
        "--header",
        files[1],
        "--uasc",
        files[2],
        "--as-at",
        as_at,
        "--out",
        str(workdir / "analyse-out"),
    ]
    baseline_json = workdir / "analyse-baseline.json"
    baseline_argv = [
        sys.executable,
        "-m",
        "benchmarks.analyse_cli",
        files[0],
        files[2],
        as_at,
        str(baseline_json),
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env_v = checker.ensure_venv() if validator else None
    ours: list[ChildRun] = []
    theirs: list[ChildRun] = []
    steps: list[checker.StepRun] = []
    for i in range(max(runs, baseline_runs)):
        if i < runs:
            ours.append(run_child(project_argv, env=env))
        if i < baseline_runs:
            theirs.append(run_child(baseline_argv, env=env))
            if env_v is not None and env_v.python is not None:
                steps.append(
                    checker.run_step(
                        env_v.python,
                        Path(files[0]),
                        workdir / "validator-out",
                        authority="E10000016",
                    )
                )
    failed = [r for r in ours + theirs if r.returncode != 0]
    if failed:
        raise RuntimeError(f"analyse benchmark: a run failed:\n{failed[0].stderr}")
    summary = json.loads((workdir / "analyse-out" / "summary.json").read_text())
    bare = json.loads(baseline_json.read_text())
    mine = {
        "children_in_census": summary["children_in_census"],
        "included": summary["cohorts"]["included"],
        "within_20": summary["headline"]["within_20"],
    }
    agree = all(mine[k] == bare[k] for k in mine)
    res.check(
        "analyse and the bare-pandas baseline count the same census, cohort and within-20",
        agree,
        f"placemap {mine}; baseline { {k: bare[k] for k in mine} }",
    )
    p = [r.seconds for r in ours]
    b = [r.seconds for r in theirs]
    peak = max(r.peak_rss_bytes for r in ours)
    peak_base = max(r.peak_rss_bytes for r in theirs)
    res.rows.append(
        Row(
            case="2",
            name="placemap analyse (new process)",
            size=f"{n_episodes:,} episodes, {mine['children_in_census']:,} children "
            f"({source.label})",
            project_s=median(p),
            project_runs=p,
            baseline="bare pandas script, no validation",
            baseline_s=median(b),
            baseline_runs=b,
            note=f"peak RSS {peak / 1024**2:,.0f} MB (baseline {peak_base / 1024**2:,.0f} MB)",
            extra={
                "episodes": n_episodes,
                "peak_rss_bytes": [r.peak_rss_bytes for r in ours],
                "baseline_peak_rss_bytes": [r.peak_rss_bytes for r in theirs],
                "counts": mine,
            },
        )
    )
    if validator:
        _validator_row(
            res,
            p,
            [r.cpu_seconds for r in ours],
            steps,
            env_v,
            workdir / "analyse-out" / "placements.csv",
            n_episodes,
        )
    return res


def _validator_row(
    res: CaseResult,
    project: list[float],
    project_cpu: list[float],
    steps: list[checker.StepRun],
    env_v: checker.Environment | None,
    placements_csv: Path,
    n_episodes: int,
) -> None:
    """Case 2's second row: ``analyse`` end to end against the validator's distance step."""
    label = "903 validator's distance step (csc-validator-be-903: postcode load + derivation)"
    row = Row(
        case="2",
        name="placemap analyse (new process) vs the DfE-aligned validator",
        size=f"{n_episodes:,} episodes (the same file)",
        project_s=median(project),
        project_runs=project,
        target="≥ 2.0× the validator's distance step",
    )
    if env_v is None or env_v.python is None or not steps:
        why = env_v.reason if env_v is not None else "not run in --quick (make bench runs it)"
        row.baseline = f"{label}: skipped"
        row.note = f"validator baseline skipped: {why}"
        res.rows.append(row)
        return
    agree = checker.compare(placements_csv, steps[-1].distances)
    res.check(
        "analyse's distances are the 903 validator's, to one decimal",
        agree.ok,
        f"{agree.compared:,} children compared, {agree.differ} differ, {agree.missing} without a "
        f"validator distance; {agree.validator_only} the validator measures and placemap does "
        "not (home or placement outside England or not known)",
    )
    inner = [s.distance_step_s for s in steps]
    row.baseline = label
    row.baseline_s = median(inner)
    row.baseline_runs = inner
    row.met = bool(row.speedup is not None and row.speedup >= 2.0)
    cpu_ratio = median([s.distance_step_cpu_s for s in steps]) / median(project_cpu)
    row.note = (
        f"CPU time: {cpu_ratio:.2f}× (validator step "
        f"{fmt_s(median([s.distance_step_cpu_s for s in steps]))}, analyse "
        f"{fmt_s(median(project_cpu))}); validator {env_v.version}; its whole process (start-up, import, CSV read, distance "
        f"step) {fmt_s(median([s.seconds for s in steps]))}, of which the CSV read "
        f"{fmt_s(median([s.read_s for s in steps]))}; distances identical for "
        f"{agree.compared - agree.differ - agree.missing:,} of {agree.compared:,} children"
    )
    row.extra = {
        "validator_version": env_v.version,
        "cpu_ratio": cpu_ratio,
        "validator_step_cpu_s": [s.distance_step_cpu_s for s in steps],
        "analyse_cpu_s": project_cpu,
        "validator_process_s": [s.seconds for s in steps],
        "validator_read_s": [s.read_s for s in steps],
        "agreement": vars(agree),
    }
    res.rows.append(row)


def main(argv: list[str] | None = None) -> int:
    episodes, uasc, as_at, out = argv if argv is not None else sys.argv[1:]
    atomic_write_bytes(Path(out), json_bytes(baseline(episodes, uasc, as_at)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
