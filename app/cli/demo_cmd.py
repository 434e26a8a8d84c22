"""``placemap demo``: write the synthetic demo dataset (no real person) to a folder."""

from __future__ import annotations

import argparse
import time

from app.cli.arguments import whole_number
from geo.demo import SCALES, demo_dataset, write_demo
from geo.progress import report


def _seed(value: str) -> int:
    return whole_number(value, lowest=0, words="is negative; expected a whole number ≥ 0")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="write synthetic SSDA903 demo data calibrated to Kent's published figures",
        description="Write a synthetic dataset generated from real postcodes and calibrated to "
        "Kent's published December 2018 figures: episodes.csv, header.csv, uasc.csv (SSDA903), "
        "carers.csv and README.txt (plus faults.csv with --messy). No real person is in it.",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--seed",
        type=_seed,
        default=None,
        metavar="N",
        help="random seed (default: the recipe's fixed seed); same seed, same files",
    )
    p.add_argument(
        "--scale",
        choices=SCALES,
        default="kent",
        help="kent: ~1,600 children (default); national: ~83,000 across England, for benchmarks",
    )
    p.add_argument(
        "--messy",
        action="store_true",
        help="add deliberate data-quality faults (listed in faults.csv) to exercise validation",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    demo = demo_dataset(seed=args.seed, scale=args.scale, messy=args.messy, progress=args.progress)
    report(args.progress, "writing the files")
    write_demo(args.out, demo)
    facts = demo.facts
    carers = facts.get("carers", {})
    faults = f", {len(demo.faults)} deliberate faults (faults.csv)" if demo.messy else ""
    print(
        f"Synthetic {args.scale} demo, seed {demo.seed}, as at {demo.as_at:%d/%m/%Y}: "
        f"{sum(facts.get('current_by_kind', {}).values()):,} children in care, "
        f"{facts.get('episodes', 0):,} episodes, "
        f"{carers.get('in_house', 0) + carers.get('ifa', 0):,} fostering households{faults}. "
        f"Written to {args.out} in {time.perf_counter() - started:.1f} s."
    )
    return 0
