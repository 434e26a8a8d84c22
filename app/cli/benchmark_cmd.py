"""``placemap benchmark``: the authority against its DfE statistical neighbours, region and
England (published tables), and its own data on the DfE definitions beside them."""

from __future__ import annotations

import argparse
from typing import Any

import pandas as pd

from app.benchmark_view import own_comparison
from app.settings import Settings
from geo.measures import (
    MEASURES,
    benchmark,
    find_authority,
    ranks,
    read_dfe_tables,
    statistical_neighbours,
)
from geo.spatial import load_authority
from geo.ssda903 import read_placements
from geo.writing import csv_bytes, json_bytes, write_outputs


def _year(value: str) -> int:
    if not (value.isdigit() and len(value) == 4):
        raise argparse.ArgumentTypeError(f"{value!r} is not a year; expected YYYY, e.g. 2025")
    return int(value)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "benchmark",
        help="the authority against its statistical neighbours, region and England (DfE)",
        description="Compare the authority with its 10 DfE statistical neighbours, their median, "
        "its region and England on the DfE's published figures (distance from home, children "
        "looked after and starts per 10,000, foster placements, 3+ placements), every published "
        "year; with --placements, its own SSDA903 data on the DfE definitions beside them. "
        "Writes benchmark.csv (long: year, area_type, area_code, area_name, measure, value), "
        "ranks.csv, neighbours.csv, reconciliation.csv (with --placements), dfe_rejected.csv "
        "and summary.json. Values are as the DfE publishes them (c suppressed, z not "
        "applicable, x not available).",
    )
    p.add_argument(
        "--authority",
        default=Settings.from_env().authority,
        metavar="CODE",
        help="GSS code of the council (default Kent, E10000016); an earlier code or the DfE "
        "three-digit number works too",
    )
    p.add_argument(
        "--year",
        type=_year,
        metavar="YYYY",
        help="only this year ending 31 March (default: every published year); also the 31 "
        "March of the own-data comparison (at most the latest in the data)",
    )
    p.add_argument(
        "--dfe-data",
        metavar="DIR",
        help="folder with newer DfE tables of the same layout (cla_distance_home_to_placement.csv,"
        " cla_placement_types.csv, cla_rates_per_10000.csv, cla_placement_stability.csv, "
        "statistical_neighbours.csv); a file not there comes from the copy placemap ships",
    )
    p.add_argument(
        "--placements",
        action="append",
        metavar="PATH",
        help="the authority's SSDA903 return (as for placemap analyse; repeat for several years)",
    )
    p.add_argument("--header", metavar="FILE", help="SSDA903 Header CSV (SEX, DOB)")
    p.add_argument("--uasc", metavar="FILE", help="SSDA903 UASC CSV (DUC)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tables = read_dfe_tables(args.dfe_data)
    ref = find_authority(tables, args.authority)
    years = [args.year] if args.year else None
    bench = benchmark(tables, ref.code, years=years)
    summary: dict[str, Any] = {
        "authority": {"code": ref.code, "name": ref.name, "dfe_number": ref.la_number},
        "region": {"code": ref.region_code, "name": ref.region_name},
        "years": sorted(int(y) for y in bench["year"].unique()),
        "sources": tables.sources,
        "dfe_rejected_rows": int(len(tables.rejects)),
        "measures": {m.name: m.label for m in MEASURES},
        "licence": "Source: Department for Education, Children looked after in England "
        "including adoptions. Contains public sector information licensed under the Open "
        "Government Licence v3.0.",
    }
    neighbours = statistical_neighbours(tables, ref.code)
    files: dict[str, bytes] = {}
    own = None
    if args.placements:
        settings = Settings.from_env()
        data = read_placements(
            list(args.placements), header=args.header, uasc=args.uasc, max_mb=settings.max_xml_mb
        )
        own = own_comparison(data, load_authority(ref.code), tables, ref, year=args.year)
        bench = pd.concat([bench, own.rows], ignore_index=True)
        files["reconciliation.csv"] = csv_bytes(own.reconciliation)
        summary["own_data"] = {
            "year": own.year,
            "published_year": own.published_year,
            "population_year": own.population_year,
            "hidden_cells": own.hidden_cells,
            "notes": own.notes(),
            "rejected_rows": int(data.rejects["row"].nunique()) if len(data.rejects) else 0,
        }
    table = ranks(bench[bench["area_type"] != "own_data"])
    files.update(
        {
            "benchmark.csv": csv_bytes(bench),
            "ranks.csv": csv_bytes(table),
            "neighbours.csv": csv_bytes(neighbours),
            "dfe_rejected.csv": csv_bytes(tables.rejects),
            "summary.json": json_bytes(summary),
        }
    )
    write_outputs(args.out, files)
    print(_headline_text(ref.name, table, own))
    print(f"Written to {args.out}")
    return 0


def _headline_text(name: str, table: pd.DataFrame, own: Any) -> str:
    year = int(table["year"].max())
    last = table[(table["year"] == year)].set_index("measure")
    lines = [
        f"{name}, year ending 31 March {year} (DfE published): value / neighbours' median / England"
    ]
    for m in MEASURES:
        if m.name not in last.index:
            continue
        r = last.loc[m.name]
        rank = f", rank {r['rank']} of {r['ranked']} (1 = highest)" if pd.notna(r["rank"]) else ""
        lines.append(f"  {m.label}: {r['value']} / {r['neighbours_median']} / {r['england']}{rank}")
    if own is not None:
        rec = own.reconciliation.set_index("measure")
        lines.append(
            f"Own data at 31 March {own.year} on the DfE definitions (published {own.published_year} "
            "beside it; placemap headline):"
        )
        for m in MEASURES:
            if m.name in rec.index:
                r = rec.loc[m.name]
                lines.append(
                    f"  {m.label}: {r['own_dfe_definition']} / published {r['published_value']}"
                    + (
                        f" / headline {r['placemap_headline']}"
                        if r["placemap_headline"] != ""
                        else ""
                    )
                )
    return "\n".join(lines)
