"""Run every benchmark case, write ``benchmarks/results/latest.{json,md}``, print the table.

    .venv/bin/python -m benchmarks.run            # the full run (make bench), ~10 min on 2 cores
    .venv/bin/python -m benchmarks.run --quick    # smoke run on the Kent demo only, ~15 s
    .venv/bin/python -m benchmarks.run --cases 1,3 --out /tmp/bench

Cases: 1 distances, 2 ``placemap analyse``, 3 coverage counts, 4 what-if, 5 recruitment,
6 app callbacks and payload, 7 scaling, 8 production server under load (full run only),
9 demand forecast, 10 the coverage model against analyse.

Everything runs in a throwaway folder: ``PLACEMAP_CACHE_DIR`` points into it, so the user's
cache (demo data, boundaries) is never read or written. Exit code 1 when a case fails or a
correctness check (identical answers to the baseline) does not hold; missed speed targets are
reported, not failures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from benchmarks.timing import CaseResult, fmt_s, load_average, machine

RESULTS = Path(__file__).resolve().parent / "results"
REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data" / "boundaries"
# Official ONS district boundaries (as `placemap boundaries download` would cache them), when the
# reference copies are there; else the app derives them offline. --quick takes Kent + Medway only.
BOUNDARIES = {
    False: SHARED / "lad_dec2024_uk_bgc.geojson",
    True: SHARED / "kent_medway_lad_dec2024_bgc.geojson",
}
CASES = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10")
QUICK_CASES = tuple(c for c in CASES if c != "8")  # the load test starts gunicorn: too slow


@dataclass(frozen=True)
class Plan:
    """Sizes and repeats. The full plan fits ``make bench`` in under 15 minutes on 2 cores."""

    quick: bool
    distance_sizes: tuple[int, ...]
    distance_runs: tuple[int, ...]
    analyse_episodes: int
    analyse_runs: int
    kent_runs: int
    national_sample_share: float
    national_sample_runs: int
    national_full_runs: int
    whatif_edits: int
    rebuild_runs: int
    households: int
    recruit_kent_runs: int
    recruit_national_runs: int
    plain_greedy_budget_s: float
    app_steps: int
    scaling_shares: tuple[float, ...]
    scaling_runs: tuple[int, ...]
    load_sessions: int
    load_seconds: float
    load_workers: int
    validator: bool  # case 2's baseline row: the 903 validator in its own venv (made on first use)


FULL = Plan(
    quick=False,
    distance_sizes=(100_000, 1_000_000),
    distance_runs=(5, 3),
    analyse_episodes=100_000,
    analyse_runs=3,
    kent_runs=5,
    national_sample_share=0.05,
    national_sample_runs=3,
    national_full_runs=1,
    whatif_edits=50,
    rebuild_runs=5,
    households=10,
    recruit_kent_runs=5,
    recruit_national_runs=1,
    plain_greedy_budget_s=20.0,
    app_steps=30,
    scaling_shares=(0.125, 0.25, 0.5),
    scaling_runs=(3, 2, 1),
    load_sessions=50,  # issue 21's target: p95 ≤ 1.5 s and no error at 50 sessions, 2 workers
    load_seconds=40.0,
    load_workers=2,
    validator=True,
)

QUICK = Plan(
    quick=True,
    distance_sizes=(2_000,),
    distance_runs=(1,),
    analyse_episodes=1_000,
    analyse_runs=1,
    kent_runs=1,
    national_sample_share=0.25,
    national_sample_runs=1,
    national_full_runs=1,
    whatif_edits=3,
    rebuild_runs=1,
    households=2,
    recruit_kent_runs=1,
    recruit_national_runs=1,
    plain_greedy_budget_s=2.0,
    app_steps=3,
    scaling_shares=(0.25, 0.5),
    scaling_runs=(1, 1),
    load_sessions=3,
    load_seconds=5.0,
    load_workers=1,
    validator=False,
)


def _commit() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_all(plan: Plan, *, cases: tuple[str, ...], workdir: Path) -> list[CaseResult]:
    """Prepare the demos in ``workdir`` and run the chosen cases in order."""
    from app.settings import Settings
    from benchmarks import (
        analyse_cli,
        app_callbacks,
        app_load,
        coverage_counts,
        coverage_model,
        distances,
        forecast,
        inputs,
        recruitment,
        scaling,
        whatif,
    )
    from geo.demo import DEMO_VERSION, demo_cache_root, demo_dataset
    from geo.spatial.authority import load_authority

    cache = Settings.from_env().cache_dir  # set to a throwaway folder by main()
    authority = load_authority()
    _say("preparing the Kent demo ...")
    kent_demo = demo_dataset(scale="kent")
    # Written where the app looks for its demo, so the app case reuses these very files.
    kent_folder = demo_cache_root(cache) / f"demo-{DEMO_VERSION}-{kent_demo.seed}"
    kent = inputs.prepare("kent", kent_folder, authority, demo=kent_demo)
    needs_national = {"1", "2", "3", "5", "7", "9", "10"} & set(cases)
    if plan.quick or not needs_national:
        national = inputs.standing_in(kent)
    else:
        _say("generating and analysing the national demo (about a minute) ...")
        national = inputs.prepare("national", workdir / "national", authority)
        _say("  " + ", ".join(f"{k} {fmt_s(v)}" for k, v in national.prepare_s.items()))
    full_national: dict[str, float] | None = None

    def case_3() -> CaseResult:
        nonlocal full_national
        res, full_national = coverage_counts.run(
            kent,
            national,
            kent_runs=plan.kent_runs,
            sample_share=plan.national_sample_share,
            sample_runs=plan.national_sample_runs,
            full_runs=plan.national_full_runs,
        )
        return res

    def case_5() -> CaseResult:
        from geo.coverage import candidate_sites

        if plan.quick:
            kent_sites = national_sites = inputs.demo_sites(kent)
        else:
            kent_sites, national_sites = candidate_sites(authority), inputs.english_sites()
        return recruitment.run(
            kent,
            national,
            authority,
            kent_sites=kent_sites,
            national_sites=national_sites,
            households=plan.households,
            kent_runs=plan.recruit_kent_runs,
            national_runs=plan.recruit_national_runs,
            baseline_budget_s=plan.plain_greedy_budget_s,
        )

    def case_9() -> CaseResult:
        return forecast.run(
            kent,
            national,
            kent_authority=authority,
            national_authority=load_authority("E92000001"),  # England: 153 authorities
            kent_runs=1 if plan.quick else 3,
            national_runs=1,
        )

    boundaries = BOUNDARIES[plan.quick] if BOUNDARIES[plan.quick].exists() else None
    steps: dict[str, Callable[[], CaseResult]] = {
        "1": lambda: distances.run(national, sizes=plan.distance_sizes, runs=plan.distance_runs),
        "2": lambda: analyse_cli.run(
            national,
            workdir,
            episodes=plan.analyse_episodes,
            runs=plan.analyse_runs,
            baseline_runs=plan.analyse_runs,
            validator=plan.validator,
        ),
        "3": case_3,
        "4": lambda: whatif.run(
            kent, authority, edits=plan.whatif_edits, rebuild_runs=plan.rebuild_runs
        ),
        "5": case_5,
        "6": lambda: app_callbacks.run(cache, workdir, steps=plan.app_steps, boundaries=boundaries),
        "7": lambda: scaling.run(
            national,
            shares=plan.scaling_shares,
            runs=plan.scaling_runs,
            full=full_national,
        ),
        "8": lambda: app_load.run(
            cache,
            sessions=plan.load_sessions,
            seconds=plan.load_seconds,
            workers=plan.load_workers,
        ),
        "9": case_9,
        "10": lambda: coverage_model.run(national, workdir, runs=1),
    }
    results = []
    for key in cases:
        _say(f"case {key} ...")
        start = time.perf_counter()
        try:
            res = steps[key]()
        except Exception as err:  # noqa: BLE001  (one broken case must not hide the others)
            res = CaseResult(key, f"case {key}", error=f"{type(err).__name__}: {err}")
            _say(traceback.format_exc())
        res.seconds = time.perf_counter() - start
        _say(f"case {key} done in {fmt_s(res.seconds)}")
        results.append(res)
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smoke run: Kent demo, tiny sizes")
    p.add_argument(
        "--cases",
        help="comma-separated case numbers 1-10 (default: all; --quick: all but 8)",
    )
    p.add_argument(
        "--out",
        default=str(RESULTS),
        help="folder for the results (default benchmarks/results): a full run of every case "
        "writes latest.json/latest.md, --quick writes quick.*, a run of some cases partial.*",
    )
    args = p.parse_args(argv)
    default = ",".join(QUICK_CASES if args.quick else CASES)
    chosen = args.cases or default
    cases = tuple(c.strip() for c in chosen.split(",") if c.strip())
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        p.error(f"unknown case(s) {', '.join(unknown)}; expected some of {', '.join(CASES)}")
    plan = QUICK if args.quick else FULL
    started = datetime.now().astimezone()
    info = machine()
    t0 = time.perf_counter()
    # The user's PLACEMAP_* settings (data folder, users file, boundaries, cache) must neither
    # change the figures nor be touched: they are set aside for the run and put back after.
    saved = {k: v for k, v in os.environ.items() if k.startswith("PLACEMAP_")}
    with tempfile.TemporaryDirectory(prefix="placemap-bench-") as tmp:
        for key in saved:
            del os.environ[key]
        os.environ["PLACEMAP_CACHE_DIR"] = str(Path(tmp) / "cache")
        boundaries = BOUNDARIES[plan.quick]
        if boundaries.exists():
            os.environ["PLACEMAP_BOUNDARIES"] = str(boundaries)  # for the server of case 8
        try:
            results = run_all(plan, cases=cases, workdir=Path(tmp))
        finally:
            for key in [k for k in os.environ if k.startswith("PLACEMAP_")]:
                del os.environ[key]
            os.environ.update(saved)
    from benchmarks.report import to_json, to_markdown
    from geo.writing import atomic_write_bytes, json_bytes

    command = "python -m benchmarks.run" + (" " + " ".join(argv) if argv else "")
    if argv is None:
        command = "python -m benchmarks.run" + "".join(f" {a}" for a in sys.argv[1:])
    meta = {
        "mode": "quick" if plan.quick else "full",
        "started": started.isoformat(timespec="seconds"),
        "duration_s": time.perf_counter() - t0,
        "command": command,
        "commit": _commit(),
        "machine": info,
        "load_average_end": load_average(),
        "plan": vars(plan),
    }
    markdown = to_markdown(meta, results)
    # Only a complete full run replaces latest.*; anything else is written beside it.
    stem = (
        ("quick" if plan.quick else "latest") if cases == tuple(default.split(",")) else "partial"
    )
    out = Path(args.out)
    atomic_write_bytes(out / f"{stem}.json", json_bytes(to_json(meta, results)))
    atomic_write_bytes(out / f"{stem}.md", markdown.encode("utf-8"))
    print(markdown)
    _say(f"written {out / f'{stem}.json'} and {out / f'{stem}.md'}")
    failed = [c for c in results if c.error] + [k for c in results for k in c.checks if not k.ok]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
