import numpy as np
import pandas as pd
import pytest

from geo.spatial import postcodes as pc


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("me141xq", "ME14 1XQ"),
        (" ME14  1XQ ", "ME14 1XQ"),
        ("ME14 1XQ", "ME14 1XQ"),
        ("ct12rx", "CT1 2RX"),
        ("M11AA", "M1 1AA"),
        ("w1a 0ax", "W1A 0AX"),
        ("ec1a1bb", "EC1A 1BB"),
    ],
)
def test_normalise_reasonable_spellings(raw, expected):
    assert pc.normalise(pd.Series([raw])).iloc[0] == expected


def test_normalise_blank_and_malformed():
    out = pc.normalise(pd.Series(["", "   ", None, "not a postcode", "ME14"]))
    assert out.isna().tolist()[:3] == [True, True, True]
    assert out.iloc[3] == "NOTAPOSTCODE"
    assert not pc.is_valid_format(out).any()


def test_lookup_statuses_and_coordinates():
    f = pc.lookup(pd.Series(["me141xq", "", "XX", "ZZ99 9ZZ", "CF10 1EP"]))
    assert f.status.tolist() == [
        "ok",
        "missing_postcode",
        "invalid_postcode",
        "unknown_postcode",
        "ok",
    ]
    assert (f.easting_m[0], f.northing_m[0]) == (576017.0, 156294.0)
    assert f.district_code.iloc[0] == "E07000110"
    assert f.district_code.iloc[4].startswith("W")
    assert pc.in_england(f.district_code).tolist() == [True, False, False, False, False]


def test_lookup_postcode_without_grid_reference_is_unknown():
    # ONSPD lists some postcodes with no grid reference (non-geographic / large users).
    table = pc.reference_table(["M"])
    no_xy = table[table["easting_m"].isna()].index[:1]
    assert len(no_xy)
    f = pc.lookup(pd.Series(list(no_xy)))
    assert f.status.iloc[0] == "unknown_postcode"


def test_lookup_loads_only_needed_letters():
    pc._letter_arrays.cache_clear()
    pc._letter_table.cache_clear()
    pc._combined_table.cache_clear()
    pc.lookup(pd.Series(["ME14 1XQ", "CT1 2RX"]))
    assert pc._letter_arrays.cache_info().currsize == 2  # C and M only
    assert pc._letter_table.cache_info().currsize == 0  # no DataFrame of postcodes is built


def test_lookup_by_binary_search_agrees_with_the_reference_table():
    """Every postcode of a letter (in file order, with duplicates resolved as the table does)
    looks up to exactly the row the reference table holds."""
    table = pc.reference_table(["T"])
    spaced = pd.Series(table.index.str[:-3] + " " + table.index.str[-3:])
    f = pc.lookup(spaced)
    has_xy = table["easting_m"].notna().to_numpy() & table["northing_m"].notna().to_numpy()
    assert (np.asarray(f.status) == "ok").sum() == has_xy.sum()
    np.testing.assert_array_equal(np.asarray(f.easting_m)[has_xy], table["easting_m"][has_xy])
    np.testing.assert_array_equal(np.asarray(f.northing_m)[has_xy], table["northing_m"][has_xy])
    assert (np.asarray(f.district_code)[has_xy] == table["district_code"].to_numpy()[has_xy]).all()


def test_data_version_is_recorded():
    assert pc.data_version().startswith("20")


def test_repeated_postcodes_give_the_same_answer_as_one_by_one():
    raw = pd.Series(["me141xq", "ME14 1XQ", None, "XX", "ct1 2rx", "", "ZZ99 9ZZ"] * 5)
    many = pc.lookup(raw).to_frame()  # factorised path (few distinct values)
    each = pc._lookup_each(raw.astype("string")).to_frame()
    pd.testing.assert_frame_equal(many, each)


def test_postcodes_in_districts_are_the_reference_rows_of_those_districts():
    codes = ["E07000110", "E07000111"]  # Maidstone (ME) and Sevenoaks (TN and BR8)
    got = pc.postcodes_in_districts(codes)
    assert set(got["district_code"]) == set(codes)
    assert got.index.str[0].isin(["B", "D", "M", "T"]).all() and (got.index.str[:2] == "BR").any()
    table = pc.reference_table(sorted(set(got.index.str[0])))
    ref = table[table["district_code"].isin(codes) & table["easting_m"].notna()]
    ref = ref[ref["northing_m"].notna()]
    pd.testing.assert_frame_equal(got, ref)
    assert pc.postcodes_in_districts(["E99999999"]).empty


def test_reference_keys_tolerate_odd_values_without_false_matches():
    keys = pc._compact_bytes(np.array(["ME14 1XQ", "MÉ14 1XQ", "A" * 40, "B1  1AA", ""], object))
    assert keys.tolist() == [b"ME141XQ", b"M?141XQ", b"", b"B11AA", b""]
