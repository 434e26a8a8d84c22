"""``placemap analyse``: census, DfE distances and district compliance written to a folder."""

from __future__ import annotations

import argparse
import os
from datetime import date

from geo.analysis import analyse
from geo.authority import DEFAULT_AUTHORITY, load_authority
from geo.errors import InputError
from geo.placements import read_placements
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
        metavar="FILE",
        help="SSDA903 Episodes CSV or one-row-per-child CSV",
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
        default=os.environ.get("PLACEMAP_AUTHORITY", DEFAULT_AUTHORITY),
        metavar="CODE",
        help="GSS code of the council (default Kent, E10000016)",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyse",
        help="distances and district 20-mile compliance for a census",
        description="Take the census of children looked after at the as-at date, "
        "compute DfE distances and write placements.csv, district_compliance.csv, "
        "district_compliance_by_placement.csv, rejected.csv and summary.json.",
    )
    add_input_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    authority = load_authority(args.authority)
    data = read_placements(args.placements, header=args.header, uasc=args.uasc)
    result = analyse(data, authority, as_at=args.as_at)
    if result.summary["children_in_census"] == 0:
        raise InputError(
            f"No child is looked after at {result.as_at.isoformat()} in '{args.placements}': "
            f"{result.summary['placements_rows']['read']} rows read, "
            f"{result.summary['placements_rows']['rejected']} rejected, "
            f"{result.summary['placements_rows']['not_current']} not current. Check the as-at "
            "date and the rejected rows."
        )
    from geo.analysis import PLACEMENT_COLUMNS

    files = {
        "placements.csv": csv_bytes(
            result.placements[
                PLACEMENT_COLUMNS + ["LS", "age_years", "SEX", "DISABLED", "placement_kind"]
            ]
        ),
        "district_compliance.csv": csv_bytes(result.compliance_home),
        "district_compliance_by_placement.csv": csv_bytes(result.compliance_placement),
        "rejected.csv": csv_bytes(result.rejects),
        "summary.json": json_bytes(result.summary),
    }
    write_outputs(args.out, files)
    h = result.summary["headline"]
    print(
        f"{authority.name}, as at {result.as_at:%d/%m/%Y}: {h['children']} children in the "
        f"headline cohort, {h['pct_within_20']}% of {h['known']} with a known distance placed "
        f"within 20 miles; {result.summary['placements_rows']['rejected']} rows rejected. "
        f"Written to {args.out}"
    )
    return 0
