"""``placemap report``: the district comparison report as XLSX, PDF, HTML or CSV (one file)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from app.benchmark_view import report_benchmark
from app.cli.analyse_cmd import add_input_arguments, read_input
from app.reports import (
    FORMATS,
    CoverageFigures,
    build_report,
    coverage_figures,
    render_report,
)
from app.settings import Settings
from geo.errors import InputError, PlacemapError
from geo.measures import Analysis, analyse, compliance_trend
from geo.measures.cell_keys import dataset_secret
from geo.progress import report as progress_report
from geo.spatial import Authority, load_authority
from geo.writing import atomic_write_bytes


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="district comparison report for commissioners and the panel (XLSX, PDF, HTML)",
        description="Build the district comparison report: headline against the target and the "
        "previous quarter, district table, map, bar chart, quarterly trend, cohorts (disabled, "
        "adolescents, UASC), carer supply when --carers is given, definitions and sources. "
        "Disclosure control (the cell-key method: c for 0-6, every count of 1-5; other counts "
        "within 2, as on the app's pages) is on unless "
        "--no-suppress is given.",
    )
    add_input_arguments(p)
    p.add_argument(
        "--carers",
        metavar="FILE",
        help="carers register CSV: adds carers, vacant places within 20 miles, coverage gap, "
        "shortage areas and recruitment suggestions",
    )
    p.add_argument(
        "--households",
        type=int,
        default=10,
        metavar="N",
        help="with --carers: how many new households the recruitment suggestions place "
        "(default 10)",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        help="xlsx, pdf, html or csv (the district table); default: the --out suffix",
    )
    p.add_argument("--out", required=True, metavar="FILE", help="output file (written atomically)")
    p.add_argument(
        "--no-suppress",
        action="store_true",
        help="turn disclosure control off (analysts only: the output shows counts of 1-5)",
    )
    p.add_argument(
        "--quarters", type=int, default=8, metavar="N", help="quarters in the trend (default 8)"
    )
    p.add_argument(
        "--boundaries",
        metavar="FILE",
        help="district boundaries (GeoJSON/GeoPackage/Shapefile); default: PLACEMAP_BOUNDARIES, "
        "the cached ONS download, or shapes derived from postcodes",
    )
    p.add_argument("--no-map", action="store_true", help="leave the map out (no boundaries)")
    p.set_defaults(func=run)


def output_format(args: argparse.Namespace) -> str:
    """``--format``, or the suffix of ``--out``; :class:`InputError` when neither names one."""
    if args.format:
        return str(args.format)
    suffix = Path(args.out).suffix.lower().lstrip(".")
    if suffix in FORMATS:
        return suffix
    raise InputError(
        f"Cannot tell the report format from '{args.out}': pass --format with one of "
        f"{', '.join(FORMATS)}, or give --out a .xlsx, .pdf, .html or .csv name."
    )


def _boundaries(
    args: argparse.Namespace, authority: Authority, settings: Settings
) -> tuple[object | None, str]:
    """District polygons for the map and their attribution; (None, "") when there are none.
    ``--boundaries``, else ``settings`` (PLACEMAP_BOUNDARIES, the cache folder)."""
    if args.no_map:
        return None, ""
    try:
        from geo.spatial.boundaries import load_boundaries
    except ImportError:  # boundaries module not installed: the report notes the missing map
        return None, ""
    try:
        b = load_boundaries(
            authority=authority,
            path=args.boundaries or settings.boundaries,
            cache_dir=settings.cache_dir,
        )
    except PlacemapError:
        if args.boundaries:
            raise  # the user named a file: tell them what is wrong with it
        return None, ""
    return b.frame, b.attribution


def _coverage(args: argparse.Namespace, analysis: Analysis) -> CoverageFigures | None:
    if not args.carers:
        return None
    from geo.ssda903 import read_carers

    progress_report(args.progress, "carer coverage and recruitment")
    register = read_carers(args.carers, as_at=analysis.as_at)
    return coverage_figures(analysis, register, households=args.households)


def run(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    fmt = output_format(args)
    if args.quarters < 1:
        raise InputError(f"--quarters must be 1 or more, got {args.quarters}.")
    if args.households < 0:
        raise InputError(f"--households must be 0 or more, got {args.households}.")
    authority = load_authority(args.authority)
    settings = Settings.from_env()
    data = read_input(args, authority)
    analysis = analyse(data, authority, as_at=args.as_at, progress=args.progress)
    if analysis.summary["children_in_census"] == 0:
        raise InputError(
            f"No child is looked after at {analysis.as_at.isoformat()} in the placements given, "
            "so there is nothing to report. Check the as-at date and the input files."
        )
    progress_report(args.progress, f"compliance trend over {args.quarters} quarters")
    trend = compliance_trend(
        data, authority, as_at=analysis.as_at, quarters=args.quarters, with_keys=True
    )
    boundaries, note = _boundaries(args, authority, settings)
    report = build_report(
        analysis,
        trend=trend,
        coverage=_coverage(args, analysis),
        boundaries=boundaries,  # type: ignore[arg-type]
        boundaries_note=note,
        suppress=not args.no_suppress,
        benchmark=report_benchmark(authority),  # DfE published figures beside neighbours
        secret=dataset_secret(data.episodes["CHILD"]),  # the app derives it alike
    )
    progress_report(args.progress, f"rendering the {fmt} report")
    payload = render_report(report, fmt=fmt)
    atomic_write_bytes(args.out, payload)
    hidden = sum(t.hidden_cells for t in report.tables)
    control = (
        f"disclosure control on ({hidden} cells hidden)"
        if report.suppressed
        else "DISCLOSURE CONTROL OFF (analyst copy: do not publish)"
    )
    print(
        f"{authority.name} report as at {report.as_at:%d/%m/%Y} written to {args.out} "
        f"({fmt.upper()}, {len(payload) / 1024:,.0f} KB, {time.perf_counter() - started:.1f} s); "
        f"{control}" + ("" if boundaries is not None else "; no map (no district boundaries)") + "."
    )
    return 0
