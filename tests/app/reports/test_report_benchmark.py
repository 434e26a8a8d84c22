"""The district comparison report's benchmark section: the DfE's published figures for the
latest year beside the statistical neighbours (figures read by hand from the DfE file)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from app.benchmark_view import report_benchmark
from app.reports import build_report, render_report
from geo import analyse, demo_dataset, load_authority, read_placements, write_demo


def test_kent_report_has_the_benchmark_table(tmp_path):
    write_demo(tmp_path, demo_dataset(seed=2018))
    kent = load_authority("E10000016")
    analysis = analyse(read_placements(tmp_path), kent)
    report = build_report(analysis, benchmark=report_benchmark(kent))
    table = report.benchmark
    assert table is not None and "2025" in table.title
    rows = table.data.set_index("measure")
    within = rows.loc["% placed 20 miles or less from home"]
    # DfE 2025: Kent 52, rank 8 of 11, neighbours' median 58, South East 56, England 69.
    assert (within["value"], within["rank"], within["neighbours_median"]) == ("52", "8 of 11", "58")
    assert (within["region"], within["england"]) == ("56", "69")
    book = load_workbook(io.BytesIO(render_report(report, fmt="xlsx")))
    assert "Benchmark" in book.sheetnames


def test_no_benchmark_for_a_region():
    assert report_benchmark(load_authority("E12000008")) is None
