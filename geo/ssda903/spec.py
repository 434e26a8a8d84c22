"""The SSDA903 return as placemap reads it: tables, columns, code lists, cohorts and age bands.

Every rule about what a code means lives here once: the validators, the census, the demo
generator and the reports all read these names (DESIGN.md §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

EPISODE_COLUMNS = [
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
]
# The carers register (DESIGN.md §5; placemap's own input, not part of the return).
CARER_COLUMNS = [
    "CARER_ID",
    "POSTCODE",
    "STATUS",
    "APPROVED_PLACES",
    "OCCUPIED_PLACES",
    "PROVIDER",
    "CATEGORIES",
]
HEADER_COLUMNS = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"]
UASC_COLUMNS = ["CHILD", "SEX", "DOB", "DUC"]
EPISODE_REQUIRED = ["CHILD", "DECOM", "LS", "PLACE", "HOME_POST", "PL_POST"]
CHILD_REQUIRED = ["CHILD", "HOME_POST", "PL_POST"]
HEADER_REQUIRED = ["CHILD"]
UASC_REQUIRED = ["CHILD"]

PLACE_CODES = frozenset(
    [f"U{i}" for i in range(1, 7)]
    + [
        "K1",
        "K2",
        "K3",
        "R1",
        "R2",
        "R3",
        "R5",
        "S1",
        "P1",
        "P2",
        "P3",
        "H5",
        "A3",
        "A4",
        "A5",
        "A6",
        "T0",
        "T1",
        "T2",
        "T3",
        "T4",
        "Z1",
        "Z11",
        "Z12",
        "Z13",
        "Z14",
    ]
)
PROVIDER_CODES = frozenset(f"PR{i}" for i in range(6))
LS_CODES = frozenset(["C1", "C2", "D1", "E1", "J1", "J2", "J3", "L1", "L2", "L3", "V2", "V3", "V4"])
CIN_CODES = frozenset(f"N{i}" for i in range(1, 10))
SHORT_BREAK_LS = frozenset(["V3", "V4"])
FOSTER_PLACES = frozenset(f"U{i}" for i in range(1, 7))
# Children's homes, secure units, residential care homes and schools. Not P2 (independent
# living: a flat, lodgings, a bed-sit) nor H5 (semi-independent accommodation): the DfE counts
# those as placements in the community, and so did the demo generator.
RESIDENTIAL_PLACES = frozenset(["K1", "K2", "K3", "R1", "S1"])
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")
DATE_REASON = "not a date; expected dd/mm/yyyy or yyyy-mm-dd"
TRUE_VALUES = frozenset(["1", "Y", "YES", "TRUE", "T"])
FALSE_VALUES = frozenset(["0", "N", "NO", "FALSE", "F", ""])


class Cohort(StrEnum):
    INCLUDED = "included"
    EXCLUDED_UASC = "excluded_uasc"
    EXCLUDED_SHORT_BREAK = "excluded_short_break"


class PlacementKind(StrEnum):
    """Commissioning view of a placement (DESIGN.md §4)."""

    IN_HOUSE_FOSTER = "in_house_foster"
    IFA_FOSTER = "ifa_foster"
    OTHER_FOSTER = "other_foster"
    RESIDENTIAL = "residential"
    OTHER = "other"


@dataclass(frozen=True)
class TableSpec:
    """One table of the SSDA903 return (or placemap's own inputs).

    ``columns`` as the DfE names them; ``signature``: columns only this table has, any one of
    which identifies it; ``used``: whether placemap reads it (the others are recognised, skipped
    and listed in the validation report, never mistaken for another table).
    """

    role: str
    title: str
    columns: tuple[str, ...]
    signature: frozenset[str]
    used: bool


# Every table of the return (DfE SSDA903 guidance; the CSV names the DfE-aligned validator and
# council exports use). Order matters only for reading: the first signature that matches wins.
TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "carers",
        "carers register",
        tuple(CARER_COLUMNS),
        frozenset(["CARER_ID"]),
        True,
    ),
    TableSpec(
        "missing",
        "Missing",
        ("CHILD", "DOB", "MISSING", "MIS_START", "MIS_END"),
        frozenset(["MISSING", "MIS_START", "MIS_END"]),
        False,
    ),
    TableSpec(
        "reviews",
        "Reviews",
        ("CHILD", "DOB", "REVIEW", "REVIEW_CODE"),
        frozenset(["REVIEW", "REVIEW_CODE"]),
        False,
    ),
    TableSpec(
        "oc2",
        "OC2 (outcomes, looked after 12 months)",
        (
            "CHILD",
            "DOB",
            "SDQ_SCORE",
            "SDQ_REASON",
            "CONVICTED",
            "HEALTH_CHECK",
            "IMMUNISATIONS",
            "TEETH_CHECK",
            "HEALTH_ASSESSMENT",
            "SUBSTANCE_MISUSE",
            "INTERVENTION_RECEIVED",
            "INTERVENTION_OFFERED",
        ),
        frozenset(
            [
                "SDQ_SCORE",
                "SDQ_REASON",
                "CONVICTED",
                "HEALTH_CHECK",
                "IMMUNISATIONS",
                "TEETH_CHECK",
                "HEALTH_ASSESSMENT",
                "SUBSTANCE_MISUSE",
            ]
        ),
        False,
    ),
    TableSpec(
        "oc3",
        "OC3 (care leavers)",
        ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM"),
        frozenset(["IN_TOUCH", "ACTIV", "ACCOM"]),
        False,
    ),
    TableSpec(
        "ad1",
        "AD1 (adoptions)",
        (
            "CHILD",
            "DOB",
            "DATE_INT",
            "DATE_MATCH",
            "FOSTER_CARE",
            "NB_ADOPTR",
            "SEX_ADOPTR",
            "LS_ADOPTR",
        ),
        frozenset(
            ["DATE_INT", "DATE_MATCH", "FOSTER_CARE", "NB_ADOPTR", "SEX_ADOPTR", "LS_ADOPTR"]
        ),
        False,
    ),
    TableSpec(
        "placed_for_adoption",
        "Placed for adoption",
        ("CHILD", "DOB", "DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"),
        frozenset(["DATE_PLACED", "DATE_PLACED_CEASED", "REASON_PLACED_CEASED"]),
        False,
    ),
    TableSpec(
        "previous_permanence",
        "Previous permanence",
        ("CHILD", "DOB", "PREV_PERM", "LA_PERM", "DATE_PERM"),
        frozenset(["PREV_PERM", "LA_PERM", "DATE_PERM"]),
        False,
    ),
    TableSpec(
        "sw_episodes",
        "Social worker episodes",
        ("CHILD", "DOB", "SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"),
        frozenset(["SW_ID", "SW_DECOM", "SW_DEC", "SW_REASON"]),
        False,
    ),
    TableSpec(
        "episodes",
        "Episodes",
        tuple(EPISODE_COLUMNS),
        frozenset(["DECOM", "HOME_POST", "PL_POST", "PLACE"]),
        True,
    ),
    TableSpec("uasc", "UASC", tuple(UASC_COLUMNS), frozenset(["DUC"]), True),
    TableSpec(
        "header",
        "Header",
        tuple(HEADER_COLUMNS),
        frozenset(["SEX", "UPN", "ETHNIC", "MOTHER", "MC_DOB"]),
        True,
    ),
)
TABLE_BY_ROLE = {t.role: t for t in TABLES}
UNUSED_TABLES = frozenset(t.role for t in TABLES if not t.used)

# SEX as councils export it: the DfE codes 1/2, letters, words; U/0/9 mean not known (kept blank).
SEX_CODES = {"1": "1", "2": "2", "M": "1", "F": "2", "MALE": "1", "FEMALE": "2"}
SEX_NOT_KNOWN = frozenset(["U", "0", "9", "X", "UNKNOWN", "NOT KNOWN", "NK"])

# Largest XML return, and largest unpacked XLSX workbook, read (MB): a guard against huge
# files and zip bombs; PLACEMAP_MAX_XML_MB sets it in the app and CLI.
DEFAULT_MAX_MB = 200.0

# Age bands used for carer approvals, filters and reports: 0-4, 5-10, 11-15, 16+ (years at the
# census date). The carers register spells them the same way (geo.ssda903.carers.Category).
AGE_BAND_LABELS = ("0-4", "5-10", "11-15", "16+")
AGE_BAND_STARTS = (0, 5, 11, 16)


def age_band_index(age_years: np.ndarray) -> np.ndarray:
    """Index into :data:`AGE_BAND_LABELS` of each age in whole years; -1 where the age is not
    known (NaN) or negative."""
    age = np.asarray(age_years, dtype=float)
    known = np.isfinite(age) & (age >= 0)
    band = np.searchsorted(np.array(AGE_BAND_STARTS[1:]), np.where(known, age, 0), side="right")
    return np.where(known, band, -1)
