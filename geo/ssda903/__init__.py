"""Council data in: the SSDA903 return (XML, CSV, XLSX; one year or several), the carers
register, and the census taken from them.

The front door is :func:`read_placements` (files, a folder, any layout a council has) followed by
:func:`take_census`; :func:`read_carers` reads the carers register. Files and tables are
recognised by content in one place (:mod:`geo.ssda903.sniff`); codes and columns are defined
once (:mod:`geo.ssda903.spec`); every row not used is in the rejects ledger with its reason.
"""

from geo.ssda903.carers import (
    ALL_AGES_MASK,
    CARER_COLUMNS,
    CATEGORY_BIT,
    NEED_MASK,
    CarerProvider,
    CarersRegister,
    CarerStatus,
    Category,
    describe_categories,
    format_categories,
    parse_categories,
    read_carers,
)
from geo.ssda903.census import Census, latest_date, placement_kind, take_census, take_censuses
from geo.ssda903.read import PlacementData, read_placements
from geo.ssda903.rejects import REJECT_COLUMNS, Rejects, parse_dates, parse_flag
from geo.ssda903.returns import (
    DIFFERENCE_COLUMNS,
    PLACEMENT_ROLES,
    ReturnInfo,
    SourceReport,
    empty_differences,
)
from geo.ssda903.sniff import FileKind, file_kind, header_columns, is_xlsx, recognise
from geo.ssda903.spec import (
    AGE_BAND_LABELS,
    AGE_BAND_STARTS,
    DEFAULT_MAX_MB,
    EPISODE_COLUMNS,
    FOSTER_PLACES,
    HEADER_COLUMNS,
    PLACE_CODES,
    PROVIDER_CODES,
    RESIDENTIAL_PLACES,
    SHORT_BREAK_LS,
    UASC_COLUMNS,
    Cohort,
    PlacementKind,
    age_band_index,
)

__all__ = [
    "AGE_BAND_LABELS",
    "AGE_BAND_STARTS",
    "DEFAULT_MAX_MB",
    "ALL_AGES_MASK",
    "CARER_COLUMNS",
    "CATEGORY_BIT",
    "DIFFERENCE_COLUMNS",
    "EPISODE_COLUMNS",
    "FOSTER_PLACES",
    "HEADER_COLUMNS",
    "UASC_COLUMNS",
    "NEED_MASK",
    "PLACEMENT_ROLES",
    "PLACE_CODES",
    "PROVIDER_CODES",
    "REJECT_COLUMNS",
    "RESIDENTIAL_PLACES",
    "SHORT_BREAK_LS",
    "CarerProvider",
    "CarerStatus",
    "CarersRegister",
    "Category",
    "Census",
    "Cohort",
    "FileKind",
    "PlacementData",
    "PlacementKind",
    "Rejects",
    "ReturnInfo",
    "SourceReport",
    "age_band_index",
    "describe_categories",
    "empty_differences",
    "file_kind",
    "format_categories",
    "header_columns",
    "is_xlsx",
    "latest_date",
    "parse_categories",
    "parse_dates",
    "parse_flag",
    "placement_kind",
    "read_carers",
    "read_placements",
    "recognise",
    "take_census",
    "take_censuses",
]
