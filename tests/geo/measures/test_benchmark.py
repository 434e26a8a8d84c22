"""The DfE benchmark against figures read by hand from the DfE's published files (2023, 2025):
Kent (county), Medway (unitary), Westminster and Wandsworth (London), symbols, code changes."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from geo.resources import resource

from geo.errors import InputError
from geo.measures import (
    benchmark,
    find_authority,
    median_of,
    rank_of,
    ranks,
    read_dfe_tables,
    statistical_neighbours,
)
from geo.measures.dfe_tables import DATA_FILES, NEIGHBOURS_FILE, SYMBOLS
from tests.conftest import shared_path

KENT, MEDWAY, WESTMINSTER, WANDSWORTH = "E10000016", "E06000035", "E09000033", "E09000032"


@pytest.fixture(scope="module")
def tables():
    return read_dfe_tables()


def value(bench: pd.DataFrame, year: int, area_type: str, measure: str, name: str | None = None):
    hit = bench[
        (bench["year"] == year) & (bench["area_type"] == area_type) & (bench["measure"] == measure)
    ]
    if name is not None:
        hit = hit[hit["area_name"] == name]
    assert len(hit) == 1, hit
    return hit["value"].iloc[0]


def test_kent_2025_against_neighbours_region_and_england(tables):
    b = benchmark(tables, KENT, years=[2025])
    assert value(b, 2025, "authority", "pct_within_20_miles") == "52"
    assert value(b, 2025, "authority", "pct_over_20_miles") == "24"
    assert value(b, 2025, "authority", "pct_not_known") == "24"
    assert value(b, 2025, "authority", "children_looked_after") == "1896"
    assert value(b, 2025, "authority", "cla_per_10000") == "53"
    assert value(b, 2025, "authority", "starts_per_10000") == "91"  # 3,226 starts (UASC)
    assert value(b, 2025, "authority", "pct_foster") == "59"
    assert value(b, 2025, "authority", "pct_3plus_placements") == "12"
    # Neighbours (rank order) 60 64 53 78 52 47 65 56 60 48 -> median (56 + 60) / 2
    sn = b[(b["area_type"] == "statistical_neighbour") & (b["measure"] == "pct_within_20_miles")]
    assert sn["area_name"].tolist()[:3] == ["Essex", "East Sussex", "Devon"]
    assert sn["value"].tolist() == ["60", "64", "53", "78", "52", "47", "65", "56", "60", "48"]
    assert value(b, 2025, "statistical_neighbours_median", "pct_within_20_miles") == "58"
    assert value(b, 2025, "region", "pct_within_20_miles") == "56"  # South East
    assert value(b, 2025, "england", "pct_within_20_miles") == "69"
    r = ranks(b).set_index("measure")
    assert (r.at["pct_within_20_miles", "rank"], r.at["pct_within_20_miles", "ranked"]) == (8, 11)
    assert set(b["area_type"]) <= {
        "authority", "statistical_neighbour", "statistical_neighbours_median", "region", "england"
    }  # fmt: skip


def test_every_published_year_is_a_trend(tables):
    b = benchmark(tables, KENT)
    assert sorted(b["year"].unique()) == [2021, 2022, 2023, 2024, 2025]
    kent = b[(b["area_type"] == "authority") & (b["measure"] == "pct_within_20_miles")]
    assert kent.sort_values("year")["value"].tolist() == ["61", "58", "56", "53", "52"]


def test_medway_unitary_and_kent_among_its_neighbours(tables):
    b = benchmark(tables, MEDWAY, years=[2025])
    assert value(b, 2025, "authority", "pct_within_20_miles") == "61"
    assert value(b, 2025, "statistical_neighbour", "pct_within_20_miles", "Kent") == "52"
    ref = find_authority(tables, MEDWAY)
    assert (ref.name, ref.la_number, ref.region_name) == ("Medway", "887", "South East")


def test_london_borough_with_suppressed_values(tables):
    b = benchmark(tables, WANDSWORTH, years=[2023])
    assert value(b, 2023, "authority", "pct_within_20_miles") == "79"
    # 1-5 children: published as c and kept as c, never 0
    assert value(b, 2023, "authority", "pct_over_20_miles") == "c"
    assert value(b, 2023, "authority", "pct_not_known") == "c"
    r = ranks(b).set_index("measure")
    assert pd.isna(r.at["pct_over_20_miles", "rank"])
    assert find_authority(tables, WANDSWORTH).region_name == "London"


def test_suppressed_neighbour_is_shown_and_left_out_of_median_and_rank(tables):
    b = benchmark(tables, WESTMINSTER, years=[2023], measures=["pct_3plus_placements"])
    assert value(b, 2023, "statistical_neighbour", "pct_3plus_placements",
                 "Kensington and Chelsea") == "c"  # fmt: skip
    # the other nine: 9 10 13 6 14 8 10 15 10 -> median 10; Westminster 10 -> rank 4 of 10
    assert value(b, 2023, "statistical_neighbours_median", "pct_3plus_placements") == "10"
    assert value(b, 2023, "region", "pct_3plus_placements") == "11"  # London
    r = ranks(b).iloc[0]
    assert (r["rank"], r["ranked"]) == (4, 10)


def test_neighbour_created_by_a_reorganisation_keeps_its_symbol(tables):
    # Bedford's 3rd neighbour, West Northamptonshire (941), replaced Northamptonshire (928) on
    # 1 April 2021: the DfE publishes z for 2021.
    b = benchmark(tables, "E06000055", years=[2021, 2022], measures=["pct_within_20_miles"])
    wn = b[b["area_name"] == "West Northamptonshire"].set_index("year")["value"]
    assert wn.to_dict() == {2021: "z", 2022: "69"}


def _copy_shipped(tmp_path, edit=None):
    for name in (*DATA_FILES, NEIGHBOURS_FILE):
        text = resource("dfe", name).read_text(encoding="utf-8")
        (tmp_path / name).write_text(edit(name, text) if edit else text, encoding="utf-8")
    return tmp_path


def test_neighbour_whose_gss_code_changed(tmp_path):
    # Somerset (933), Kent's 10th neighbour, was county E10000027 until 2023 and is E06000066
    # now; a file as first published carries the old code in 2021-2022.
    def old_code(name, text):
        lines = text.splitlines()
        return "\n".join(
            line.replace("E06000066", "E10000027") if line.startswith(("2021", "2022")) else line
            for line in lines
        )

    tables = read_dfe_tables(_copy_shipped(tmp_path, old_code))
    b = benchmark(tables, KENT, years=[2021], measures=["pct_within_20_miles"])
    somerset = b[b["area_name"] == "Somerset"]
    assert somerset[["area_code", "value"]].values.tolist() == [["E06000066", "55"]]
    assert find_authority(tables, "E10000027").code == "E06000066"
    assert find_authority(tables, "933").name == "Somerset"


def test_neighbour_split_since_the_grouping_is_reported_not_dropped(tmp_path):
    def cumbria(name, text):
        return text.replace("Kent,886,10,Somerset,933", "Kent,886,10,Cumbria,909")

    tables = read_dfe_tables(_copy_shipped(tmp_path, cumbria))
    sn = statistical_neighbours(tables, KENT)
    assert len(sn) == 10 and "Cumberland" in sn.iloc[9]["note"]
    b = benchmark(tables, KENT, years=[2025], measures=["pct_within_20_miles"])
    assert value(b, 2025, "statistical_neighbour", "pct_within_20_miles", "Cumbria") == "x"
    # nine neighbours left: 47 52 53 56 60 60 64 65 78
    assert value(b, 2025, "statistical_neighbours_median", "pct_within_20_miles") == "60"


def test_newer_file_replaces_the_shipped_one_and_bad_rows_are_reported(tmp_path):
    text = resource("dfe", DATA_FILES[0]).read_text(encoding="utf-8")
    extra = [
        "2026,Local authority,Kent,E10000016,886,Placed 20 miles or less from home,1000,55",
        "2026,Local authority,Kent,E10000016,886,Placed more than 20 miles from home,??,20",
        "26,National,National,,,Placed 20 miles or less from home,100,70",
    ]
    head = text.splitlines()[0]
    assert head.split(",")[5:] == ["characteristic", "number", "percentage"]
    (tmp_path / DATA_FILES[0]).write_text(text + "\n".join(extra) + "\n", encoding="utf-8")
    tables = read_dfe_tables(tmp_path)
    assert tables.sources[DATA_FILES[0]] == str(tmp_path / DATA_FILES[0])
    assert tables.sources[DATA_FILES[1]].startswith("placemap data/dfe")
    b = benchmark(tables, KENT, years=[2026], measures=["pct_within_20_miles", "pct_foster"])
    assert value(b, 2026, "authority", "pct_within_20_miles") == "55"
    assert value(b, 2026, "authority", "pct_foster") == "x"  # not in that year's tables
    rejects = tables.rejects.sort_values("row")
    assert rejects[["column", "value"]].values.tolist() == [["number", "??"], ["time_period", "26"]]
    assert set(rejects["file"]) == {DATA_FILES[0]}


def test_unusable_input_is_a_one_paragraph_error(tmp_path, tables):
    with pytest.raises(InputError, match="not an English local authority"):
        find_authority(tables, "E07000110")  # Maidstone: a district, not a council with CSC
    with pytest.raises(InputError, match="No DfE figures for 2019"):
        benchmark(tables, KENT, years=[2019])
    with pytest.raises(InputError, match="No DfE table"):
        read_dfe_tables(tmp_path)
    (tmp_path / NEIGHBOURS_FILE).write_text("la_name,old_la_code\nKent,886\n", encoding="utf-8")
    with pytest.raises(InputError, match="lacks the column"):
        read_dfe_tables(tmp_path)


def test_median_and_rank_never_count_a_symbol_as_zero():
    assert median_of(["10", "c", "z", "20"]) == "15"
    assert median_of(["c", "x"]) == "x"
    assert median_of(["1", "2", "4"]) == "2"
    assert median_of(["1", "2"]) == "1.5"
    assert rank_of("5", ["c", "7", "5", "1"]) == (2, 4)
    assert rank_of("c", ["7"]) == (None, 1)


def test_shipped_copy_matches_the_published_files():
    """Every value shipped in data/dfe is the DfE's, unchanged (only rows and columns dropped)."""
    for name in (*DATA_FILES, NEIGHBOURS_FILE):
        full = pd.read_csv(shared_path("data", "dfe", name), dtype=str, keep_default_na=False)
        text = resource("dfe", name).read_text(encoding="utf-8")
        mine = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        assert list(mine.columns) == [c for c in full.columns if c in mine.columns]
        merged = mine.merge(full[list(mine.columns)], how="left", indicator=True)
        assert (merged["_merge"] == "both").all(), name
        for col in {"number", "percentage", "rate_per_10000"} & set(mine.columns):
            text_values = mine.loc[~mine[col].str.fullmatch(r"-?[0-9.]+"), col]
            assert set(text_values) <= SYMBOLS, (name, col)
