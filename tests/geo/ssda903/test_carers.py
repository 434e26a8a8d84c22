"""Carers register: validation, every bad row reported, postcodes located, vacancy never < 0."""

from datetime import date

import numpy as np
import pytest

from geo.errors import InputError
from geo.ssda903 import REJECT_COLUMNS
from geo.ssda903.carers import (
    AGE_MASK,
    CATEGORY_BIT,
    Category,
    format_categories,
    parse_categories,
    read_carers,
)

HEAD = "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES,APPROVAL_DATE"


def test_good_rows_are_read_located_and_normalised(write_csv):
    path = write_csv(
        "carers.csv",
        [
            HEAD,
            "K1,me141xq,Approved,2,1,in-house,0-4;5-10;Disability,01/02/2015",
            "K2,CT1 2RX,approved,3,5,IFA,11-15;16+;siblings,",
            "K3,TN1 1RS,in assessment,,,in_house,,",
            "K4,DA1 1DR,deregistered,1,0,ifa,16 +;Parent and child,",
        ],
    )
    reg = read_carers(path)
    c = reg.carers.set_index("CARER_ID")
    assert list(c.index) == ["K1", "K2", "K3", "K4"]
    assert c.loc["K1", "POSTCODE"] == "ME14 1XQ" and c.loc["K1", "sector"] == "ME14 1"
    assert c.loc["K1", "district_code"] == "E07000110"  # Maidstone
    assert c.loc["K1", "PROVIDER"] == "in_house" and c.loc["K2", "PROVIDER"] == "ifa"
    assert c.loc["K1", "CATEGORIES"] == "0-4;5-10;disability"
    assert c.loc["K4", "CATEGORIES"] == "16+;parent_and_child"
    assert c.loc["K3", "STATUS"] == "in_assessment" and c.loc["K3", "APPROVED_PLACES"] == 0
    # vacancy = approved - occupied, never below 0 (K2 has more children than places: noted)
    assert c["vacant_places"].tolist() == [1, 0, 0, 1]
    assert c["supplies"].tolist() == [True, True, False, False]
    assert reg.rejects.empty
    assert reg.notes["column"].tolist() == ["OCCUPIED_PLACES"] and reg.notes["row"].tolist() == [3]
    assert reg.summary["approved_places"] == 5 and reg.summary["vacant_places"] == 1
    assert reg.summary["rows_read"] == 4 and reg.summary["usable"] == 4


def test_every_bad_row_is_reported_with_file_row_column_and_reason(write_csv):
    path = write_csv(
        "register.csv",
        [
            HEAD,
            ",ME14 1XQ,approved,2,0,in_house,0-4,",  # 2 blank id
            "K2,ME14 1XQ,retired,2,0,in_house,0-4,",  # 3 status
            "K3,ME14 1XQ,approved,two,0,in_house,0-4,",  # 4 places not a number
            "K4,ME14 1XQ,approved,2,-1,in_house,0-4,",  # 5 negative
            "K5,ME14 1XQ,approved,2,0,council,0-4,",  # 6 provider
            "K6,ME14 1XQ,approved,2,0,in_house,0-4;teenagers,",  # 7 unknown category
            "K7,ME14 1XQ,approved,2,0,in_house,siblings,",  # 8 no age band
            "K8,ME14 1XQ,approved,2,0,in_house,0-4,31/02/2015",  # 9 bad date
            "K9,ME14 1XQ,approved,,0,in_house,0-4,",  # 10 approved without places
            "K10,ME14 1XQ,approved,2,0,in_house,0-4,",  # 11 fine
            "K10,CT1 2RX,approved,1,0,in_house,0-4,",  # 12 duplicate id
            "K12,ME14 1XQ,approved,2,0,in_house,0-4,,EXTRA",  # 13 too many fields
        ],
    )
    reg = read_carers(path)
    assert list(reg.rejects.columns) == REJECT_COLUMNS
    rejected = reg.rejects.groupby("row")["column"].apply(list).to_dict()
    assert rejected == {
        2: ["CARER_ID"],
        3: ["STATUS"],
        4: ["APPROVED_PLACES"],
        5: ["OCCUPIED_PLACES"],
        6: ["PROVIDER"],
        7: ["CATEGORIES"],
        8: ["CATEGORIES"],
        9: ["APPROVAL_DATE"],
        10: ["APPROVED_PLACES"],
        12: ["CARER_ID"],
        13: [""],
    }
    assert set(reg.rejects["file"]) == {"register.csv"}
    reasons = dict(zip(reg.rejects["row"], reg.rejects["reason"], strict=True))
    assert "'teenagers'" in reasons[7] and "parent_and_child" in reasons[7]
    assert "no age band" in reasons[8]
    assert "more than once" in reasons[12]
    assert reg.carers["CARER_ID"].tolist() == ["K10"]
    # rows read = used + rejected: nothing dropped silently
    assert reg.summary["rows_read"] == reg.summary["usable"] + reg.summary["rejected_rows"]


def test_unknown_postcodes_are_kept_but_not_located(write_csv):
    path = write_csv(
        "carers.csv",
        [
            HEAD,
            "K1,ZZ99 9ZZ,approved,2,0,in_house,0-4,",
            "K2,not a postcode,approved,2,0,in_house,0-4,",
            "K3,,approved,2,0,in_house,0-4,",
            "K4,ME14 1XQ,approved,2,0,in_house,0-4,",
        ],
    )
    reg = read_carers(path)
    assert reg.rejects.empty
    assert reg.carers["located"].tolist() == [False, False, False, True]
    assert reg.carers["supplies"].tolist() == [False, False, False, True]
    assert np.isnan(reg.carers["easting_m"].iloc[0])
    notes = reg.notes.set_index("row")
    assert set(notes["column"]) == {"POSTCODE"}
    assert "not in the ONS Postcode Directory" in notes.loc[2, "reason"]
    assert "not a valid UK postcode" in notes.loc[3, "reason"]
    assert "blank" in notes.loc[4, "reason"]
    assert "covers no child" in notes.loc[2, "reason"]
    assert reg.summary["not_located"] == 3
    assert list(reg.report()["row"]) == [2, 3, 4]


def test_carers_approved_after_the_as_at_date_supply_nothing(write_csv):
    path = write_csv(
        "carers.csv",
        [
            HEAD,
            "K1,ME14 1XQ,approved,2,0,in_house,0-4,01/06/2019",
            "K2,ME14 1XQ,approved,2,0,in_house,0-4,01/06/2018",
        ],
    )
    assert read_carers(path).carers["supplies"].tolist() == [True, True]
    reg = read_carers(path, as_at=date(2018, 12, 31))
    assert reg.carers["supplies"].tolist() == [False, True]
    assert reg.notes["column"].tolist() == ["APPROVAL_DATE"]
    assert "31/12/2018" in reg.notes["reason"].iloc[0]


def test_missing_column_is_an_input_error(write_csv):
    path = write_csv("carers.csv", ["CARER_ID,POSTCODE,STATUS", "K1,ME14 1XQ,approved"])
    with pytest.raises(InputError, match="APPROVED_PLACES") as err:
        read_carers(path)
    assert "Carers register' in the README" in str(err.value)  # not an SSDA903 table


def test_category_masks():
    mask, bad = parse_categories("0-4; 5-10 ;Siblings;PARENT-AND-CHILD;short breaks")
    assert bad == []
    assert mask & AGE_MASK == CATEGORY_BIT[Category.AGE_0_4] | CATEGORY_BIT[Category.AGE_5_10]
    assert format_categories(mask) == "0-4;5-10;siblings;parent_and_child;short_break"
    assert parse_categories("") == (0, [])
    assert parse_categories("16+;adults")[1] == ["adults"]


@pytest.mark.parametrize(
    "categories, words",
    [
        ("0-4;5-10;11-15;16+;disability;siblings", "any age, sibling groups and disabled children"),
        ("11-15;16+", "ages 11-15, 16+"),
        ("disability", "disabled children"),
        ("", "no category"),
    ],
)
def test_categories_in_plain_words(categories, words):
    from geo.ssda903.carers import describe_categories, parse_categories

    assert describe_categories(parse_categories(categories)[0]) == words
