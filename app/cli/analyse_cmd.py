"""``placemap analyse``: census, DfE distances and district compliance written to a folder."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from app.settings import Settings
from geo.errors import InputError
from geo.measures import analyse
from geo.progress import report
from geo.spatial import Authority, load_authority
from geo.ssda903 import PlacementData, read_placements
from geo.writing import csv_bytes, json_bytes, write_outputs


def parse_date_arg(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date; expected YYYY-MM-DD") from err


def add_input_arguments(p: argparse.ArgumentParser) -> None:
    """The placement-input options shared by analyse, coverage, recruit and report."""
    p.add_argument(
        "--placements",
        required=True,
        action="append",
        metavar="PATH",
        help="the SSDA903 return as filed: XML, Episodes/Header/UASC as CSV or XLSX, or one row "
        "per child; a file or a folder. Repeat it for several years (merged, later year wins)",
    )
    p.add_argument("--header", metavar="FILE", help="SSDA903 Header CSV (SEX, DOB)")
    p.add_argument("--uasc", metavar="FILE", help="SSDA903 UASC CSV (DUC)")
    p.add_argument(
        "--as-at",
        type=parse_date_arg,
        metavar="YYYY-MM-DD",
        help="census date (default: the latest date in the data)",
    )
    p.add_argument(
        "--authority",
        default=Settings.from_env().authority,
        metavar="CODE",
        help="GSS code of the council (default Kent, E10000016)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyse",
        help="distances and district 20-mile compliance for a census",
        description="Take the census of children looked after at the as-at date, "
        "compute DfE distances and write placements.csv, district_compliance.csv, "
        "district_compliance_by_placement.csv, rejected.csv, merge_differences.csv and "
        "summary.json (with the per-file validation report).",
    )
    add_input_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=run)


def placement_paths(args: argparse.Namespace) -> list[str]:
    """``--placements`` as a list (one or more files or folders)."""
    value = args.placements
    return [value] if isinstance(value, str) else list(value)


def read_input(args: argparse.Namespace, authority: Authority) -> PlacementData:
    """The placements a command's input options name (:func:`add_input_arguments`), read the
    one way every command reads them: the size limit from ``PLACEMAP_MAX_XML_MB``, rows of
    other authorities in an extract set aside, progress drawn when the terminal shows it."""
    return read_placements(
        placement_paths(args),
        header=args.header,
        uasc=args.uasc,
        max_mb=Settings.from_env().max_xml_mb,
        authority=authority,
        progress=getattr(args, "progress", None),
    )


def headline_words(summary: dict[str, Any]) -> str:
    """The headline as a person reads it: never "None%" when no distance is known."""
    h = summary["headline"]
    children = f"{h['children']:,} children in the headline cohort"
    if not h["known"]:
        return f"{children}, none with a known distance (check HOME_POST and PL_POST)"
    return (
        f"{children}, {h['pct_within_20']:.1f} % of the {h['known']:,} with a known distance "
        "placed within 20 miles"
    )


def rejected_words(summary: dict[str, Any]) -> str:
    """Rejected rows of every input table (episodes, Header, UASC), not the episodes alone."""
    files = summary["validation"]["files"]
    by_role: dict[str, int] = {}
    for f in files:
        if f["role"] != "ignored" and f["rows_rejected"]:
            by_role[f["role"]] = by_role.get(f["role"], 0) + int(f["rows_rejected"])
    total = sum(by_role.values())
    if not total:
        return "no row rejected"
    parts = ", ".join(f"{n:,} {role}" for role, n in by_role.items())
    return f"{total:,} rows rejected ({parts}; reasons in rejected.csv)"


def run(args: argparse.Namespace) -> int:
    authority = load_authority(args.authority)
    paths = placement_paths(args)
    data = read_input(args, authority)
    result = analyse(data, authority, as_at=args.as_at, progress=args.progress)
    result.summary["merge_differences"] = {
        "count": int(len(data.merge_differences)),
        "by_column": {
            str(k): int(v) for k, v in data.merge_differences["column"].value_counts().items()
        },
        "file": "merge_differences.csv",
    }
    if result.summary["children_in_census"] == 0:
        raise InputError(
            f"No child is looked after at {result.as_at.isoformat()} in '{', '.join(paths)}': "
            f"{result.summary['placements_rows']['read']} rows read, "
            f"{result.summary['placements_rows']['rejected']} rejected, "
            f"{result.summary['placements_rows']['not_current']} not current. Check the as-at "
            "date and the rejected rows."
        )
    from geo.measures import PLACEMENT_COLUMNS

    files = {
        "placements.csv": csv_bytes(
            result.placements[
                PLACEMENT_COLUMNS + ["LS", "age_years", "SEX", "DISABLED", "placement_kind"]
            ]
        ),
        "district_compliance.csv": csv_bytes(result.compliance_home),
        "district_compliance_by_placement.csv": csv_bytes(result.compliance_placement),
        "rejected.csv": csv_bytes(result.rejects),
        "merge_differences.csv": csv_bytes(data.merge_differences),
        "summary.json": json_bytes(result.summary),
    }
    report(args.progress, f"writing {len(files)} files")
    write_outputs(args.out, files)
    print(
        f"{authority.name}, as at {result.as_at:%d/%m/%Y}: {headline_words(result.summary)}; "
        f"{rejected_words(result.summary)}"
        + (
            f", {result.summary['placements_rows']['merged_duplicates']} episodes reported in two returns merged "
            f"({len(data.merge_differences)} differences, later return kept)"
            if result.summary["placements_rows"]["merged_duplicates"]
            else ""
        )
        + f". Written to {args.out}"
    )
    return 0
