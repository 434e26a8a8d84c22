"""Read and validate placement data (DfE SSDA903 layout or one row per child) and take the census.

Two input forms are accepted (DESIGN.md §4):

* **Episodes** (SSDA903): ``CHILD, DECOM, RNE, LS, CIN, PLACE, PLACE_PROVIDER, DEC, REC,
  REASON_PLACE_CHANGE, HOME_POST, PL_POST, URN`` with optional **Header** (``CHILD, SEX, DOB, ...``)
  and **UASC** (``CHILD, SEX, DOB, DUC``) files. A local ``DISABLED`` (0/1) column is honoured.
* **One row per child**: at least ``CHILD, HOME_POST, PL_POST``; optional ``PLACE,
  PLACE_PROVIDER, DECOM, DEC, DOB, SEX, LS, UASC, DISABLED``.

Files are taken as a council has them (see :func:`read_placements`): the DfE XML return
(:mod:`geo.ssda903.xml_return`), CSV sets and XLSX workbooks whose tables are recognised by their columns
whatever the file or sheet names, one file, several, or a folder. Several years' returns are
merged into one episode history (:mod:`geo.ssda903.returns`).

Every input row is either kept or reported in ``rejects`` with file, row, column, value and reason.
Postcode problems do not reject a row: the child stays in the census with a *not known* distance.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from geo.progress import Progress, report
from geo.spatial.authority import Authority
from geo.ssda903.extracts import split_extract
from geo.ssda903.rejects import Rejects
from geo.ssda903.returns import (
    PLACEMENT_ROLES,
    ReturnInfo,
    SourceReport,
    empty_differences,
    merge_rows,
)
from geo.ssda903.sniff import (
    SNIFF_BYTES,
    FileKind,
    apply_aliases,
    describe_table,
    file_kind,
    placements_form,
    recognise,
)
from geo.ssda903.spec import (
    CHILD_REQUIRED,
    DEFAULT_MAX_MB,
    EPISODE_REQUIRED,
    HEADER_REQUIRED,
    UASC_REQUIRED,
    UNUSED_TABLES,
)
from geo.ssda903.tables import RawTable, read_csv_text, read_xlsx_tables, require_columns
from geo.ssda903.validate import validate_rows, validate_side_file
from geo.ssda903.xml_return import read_ssda903_xml


@dataclass(frozen=True)
class PlacementData:
    """Validated input, before the census.

    ``episodes`` has one row per usable input row with canonical columns (dates as
    ``datetime64``; ``UASC``/``DISABLED`` as nullable booleans; ``_file``/``_row`` locate it).
    ``children`` holds Header facts per child (``SEX``, ``DOB``), ``uasc`` the UASC file
    (``CHILD``, ``DUC``). ``rejects`` lists every row not used, with reasons.

    ``sources`` says what each input table was recognised as and what became of its rows,
    ``returns`` how the tables were grouped into returns and ordered (later wins), and
    ``merge_differences`` every field on which two returns disagreed
    (:data:`geo.ssda903.returns.DIFFERENCE_COLUMNS`). See :func:`geo.measures.validation.validation_report`.
    """

    form: str  # "episodes" or "child"
    episodes: pd.DataFrame
    children: pd.DataFrame
    uasc: pd.DataFrame
    rejects: pd.DataFrame
    rows_read: dict[str, int]
    files: dict[str, str]
    sources: tuple[SourceReport, ...] = ()
    returns: tuple[ReturnInfo, ...] = ()
    merge_differences: pd.DataFrame = field(default_factory=empty_differences)


_WHAT = {"placements": "placements file", "header": "header file", "uasc": "UASC file"}


@dataclass
class _Table:
    """One recognised input table while reading (mutable: labels and ranks are set later)."""

    table: RawTable
    role: str
    path: Path
    order: int
    explicit: bool  # given with header= / uasc=
    group: str = ""
    rank: int = 0
    valid: pd.DataFrame | None = None


def _expand(paths: list[Path], what: str) -> list[tuple[Path, bool]]:
    """Files to read: each path, or every visible file under a folder. (path, from_folder)."""
    out: list[tuple[Path, bool]] = []
    for p in paths:
        if p.is_dir():
            found = [
                f
                for f in sorted(p.rglob("*"))
                if f.is_file()
                and not any(part.startswith((".", "~$")) for part in f.relative_to(p).parts)
            ]
            if not found:
                raise InputError(
                    f"The folder '{p}' holds no files. Put the SSDA903 return in it (XML, or "
                    "Episodes/Header/UASC as CSV or XLSX), or give the files themselves."
                )
            out.extend((f, True) for f in found)
        elif p.exists():
            out.append((p, False))
        else:
            raise InputError(f"The {what} '{p}' does not exist. Check the path and try again.")
    return out


def _head(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError as err:
        raise InputError(f"The {what} '{path}' could not be read: {err.strerror or err}.") from err


def _load_file(
    path: Path,
    *,
    forced: str | None,
    from_folder: bool,
    what: str,
    max_mb: float,
    authority: Authority | None,
) -> tuple[str, list[tuple[str, RawTable]], list[tuple[str, str]]]:
    """Read one file by content. Returns (format, [(role, table)], [(ignored label, reason)])."""
    try:
        kind = file_kind(_head(path, what), name=path.name, what=what, source=path, max_mb=max_mb)
    except InputError as err:
        if from_folder:
            return "csv", [], [(path.name, f"not read: {err}")]
        raise
    if kind is FileKind.XML:
        x = read_ssda903_xml(path, max_mb=max_mb)
        return "xml", [("header", x.header), ("episodes", x.episodes)], []
    if kind is FileKind.XLSX:
        tables, skipped = read_xlsx_tables(path, what=what)
        found: list[tuple[str, RawTable]] = []
        ignored = [(f"{path.name}[{sheet}]", why) for sheet, why in skipped]
        for t in tables:
            t = apply_aliases(t)
            role = recognise(list(t.frame.columns))
            if role is None or role == "carers" or role in UNUSED_TABLES:
                ignored.append((t.name, _ignored_reason(role, t)))
            else:
                found.extend((role, part) for part in split_extract(t, authority))
        return "xlsx", found, ignored
    try:
        table = apply_aliases(read_csv_text(path, what=what))
    except InputError as err:
        if from_folder:
            return "csv", [], [(path.name, f"not read: {err}")]
        raise
    role = forced or recognise(list(table.frame.columns))
    if role == "carers" or role in UNUSED_TABLES or (role is None and from_folder):
        return "csv", [], [(table.name, _ignored_reason(role, table))]
    if role is None:  # a named file: validate it as placements so the message names columns
        role = placements_form(set(table.frame.columns))
    return "csv", [(role, part) for part in split_extract(table, authority)], []


def _ignored_reason(role: str | None, table: RawTable) -> str:
    if role == "carers":
        return "a carers register, not placement data (give it to the carers commands)"
    if role in UNUSED_TABLES:
        return f"{describe_table(role)}: placemap does not use it (skipped)"
    cols = [c for c in table.frame.columns if not str(c).startswith("_")][:12]
    return (
        f"columns {cols} are not an SSDA903 Episodes, Header or UASC table nor one row per "
        "child (expected CHILD with DECOM/HOME_POST/PL_POST, DOB/SEX/UPN or DUC)"
    )


def _labels(paths: list[Path]) -> dict[Path, str]:
    """Names for rejects: the file name, or the path below the common folder when two files
    share a name (2019/Episodes.csv, 2020/Episodes.csv)."""
    counts = Counter(p.name for p in paths)
    if all(n == 1 for n in counts.values()):
        return {p: p.name for p in paths}
    root = Path(os.path.commonpath([str(p.parent) for p in paths]))
    return {p: p.relative_to(root).as_posix() if counts[p.name] > 1 else p.name for p in paths}


_DIGITS = re.compile(r"\d+")


def _group_tables(tables: list[_Table]) -> None:
    """Assign each table to a return: an XML file or a workbook is one return; a CSV placements
    file is one return, joined by the Header/UASC CSVs of the same folder whose names carry the
    same numbers (header_2019.csv goes with episodes_2019.csv) — or by every Header/UASC CSV
    when there is a single CSV placements file."""

    def key(p: Path) -> tuple[str, str]:
        return str(p.parent), "-".join(_DIGITS.findall(p.stem))

    csv_placements = [t for t in tables if t.table.fmt == "csv" and t.role in PLACEMENT_ROLES]
    for t in tables:
        if t.table.fmt != "csv" or t.role in PLACEMENT_ROLES:
            t.group = str(t.path) + (f"|{t.table.year}" if t.table.year else "")
    for t in tables:
        if t.group:
            continue
        if t.table.year is not None:  # a year of a Header/UASC extract joins the same year
            same = {
                c.group
                for c in csv_placements
                if c.table.year == t.table.year and c.path.parent == t.path.parent
            }
            if len(same) == 1:
                t.group = same.pop()
                continue
        if len(csv_placements) == 1:
            t.group = csv_placements[0].group
            continue
        same = {c.group for c in csv_placements if key(c.path) == key(t.path)}
        t.group = same.pop() if len(same) == 1 else f"side:{t.path}"


def _rank_returns(tables: list[_Table]) -> tuple[ReturnInfo, ...]:
    """Order returns, earliest first: by the latest DECOM/DEC in their placement rows. Returns
    of Header/UASC only rank first, except files named with ``header=``/``uasc=``, which rank
    last (the caller named them on purpose); ties keep the order given."""
    groups: dict[str, list[_Table]] = {}
    for t in tables:
        groups.setdefault(t.group, []).append(t)
    keys = []
    for g, members in groups.items():
        stamps = [
            m.valid[c].max()
            for m in members
            if m.role in PLACEMENT_ROLES and m.valid is not None and len(m.valid)
            for c in ("DECOM", "DEC")
        ]
        stamps = [x for x in stamps if pd.notna(x)]
        end = max(stamps) if stamps else None
        has_placements = any(m.role in PLACEMENT_ROLES for m in members)
        tier = 1 if has_placements else (2 if all(m.explicit for m in members) else 0)
        order = min(m.order for m in members)
        keys.append(((tier, end or pd.Timestamp.min, order), g, end, members))
    keys.sort(key=lambda k: k[0])
    infos = []
    for rank, (_, _g, end, members) in enumerate(keys):
        names = tuple(dict.fromkeys(m.table.name for m in members))
        label = " + ".join(dict.fromkeys(_file_of(m) for m in members))
        for m in members:
            m.rank = rank
        infos.append(
            ReturnInfo(
                label=label,
                rank=rank,
                data_end=end.date() if end is not None else None,
                files=names,
            )
        )
    return tuple(infos)


def _file_of(t: _Table) -> str:
    return t.table.name.split("[", 1)[0] if t.table.fmt == "xlsx" else t.table.name


def _validate_table(t: _Table, rejects: Rejects, key: str) -> pd.DataFrame:
    what = {"episodes": "episodes file", "child": "placements file", **_WHAT}[t.role]
    required = {
        "episodes": EPISODE_REQUIRED,
        "child": CHILD_REQUIRED,
        "header": HEADER_REQUIRED,
        "uasc": UASC_REQUIRED,
    }[t.role]
    require_columns(t.table, required, what=what)
    rejects.begin(key)
    rejects.add_bad_rows(t.table)
    if t.role in PLACEMENT_ROLES:
        return validate_rows(t.table, rejects, episodes_form=t.role == "episodes")
    return validate_side_file(t.table, rejects)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f.columns)]
    non_empty = [f for f in frames if len(f)]
    if not non_empty:
        return frames[0].iloc[0:0] if frames else pd.DataFrame()
    return pd.concat(non_empty, ignore_index=True) if len(non_empty) > 1 else non_empty[0]


def read_placements(
    placements: str | Path | Sequence[str | Path],
    *,
    header: str | Path | None = None,
    uasc: str | Path | None = None,
    max_mb: float = DEFAULT_MAX_MB,
    authority: Authority | None = None,
    progress: Progress | None = None,
) -> PlacementData:
    """Read, validate and merge placement data as a council files it.

    ``placements`` is a file, a folder (every visible file below it) or a list of them. Each file
    is recognised by content, not name or extension: the DfE SSDA903 XML return (root
    ``EXPSSDA903``), an XLSX workbook (each sheet recognised by its columns) or a CSV (UTF-8 with
    or without BOM, or Windows-1252) that is an SSDA903 Episodes, Header or UASC table or one row
    per child. ``header``/``uasc`` name a Header/UASC file explicitly. Returns from several years
    are merged (:mod:`geo.ssda903.returns`): the same episode counted once, the later return winning.

    A regional or multi-year extract (an ``LA`` and/or ``YEAR`` column) is split
    (:mod:`geo.ssda903.extracts`): with ``authority`` given, rows of other authorities are set
    aside and counted per ``LA`` value; each year is merged like a separate return.

    Raises :class:`~geo.errors.InputError` when a named file is unusable as a whole (missing,
    empty, not a table, a required column missing, hostile or ill-formed XML) or when no
    placement table is found; bad rows go to ``rejects`` instead. In a folder, files that are
    not placement tables (a carers register, notes) are skipped and listed in ``sources``.
    ``max_mb`` caps an XML return's size and a workbook's unpacked size, in MB (default 200;
    the app passes ``PLACEMAP_MAX_XML_MB``). ``progress`` hears one report per file read and
    per table checked.
    """
    if isinstance(placements, (str, os.PathLike)):
        named = [Path(placements)]
    else:
        named = [Path(p) for p in placements]
    if not named:
        raise InputError(
            "No placements file given: name the SSDA903 return, its files or a folder."
        )
    inputs: list[tuple[Path, str | None, bool]] = []
    seen: set[Path] = set()
    for role, paths in (("placements", named), ("header", [header]), ("uasc", [uasc])):
        for path in paths:
            if path is None:
                continue
            for f, from_folder in _expand([Path(path)], _WHAT[role]):
                if f.resolve() not in seen:
                    seen.add(f.resolve())
                    inputs.append((f, None if role == "placements" else role, from_folder))

    tables: list[_Table] = []
    ignored: list[tuple[Path, str, str, str]] = []  # path, format, label, reason
    formats: dict[Path, str] = {}
    reading = f"reading {len(inputs):,} file{'s' if len(inputs) != 1 else ''}"
    for order, (path, forced, from_folder) in enumerate(inputs):
        report(progress, reading, order, len(inputs), "files")
        fmt, found, skipped = _load_file(
            path,
            forced=forced,
            from_folder=from_folder,
            what=_WHAT[forced or "placements"],
            max_mb=max_mb,
            authority=authority,
        )
        formats[path] = fmt
        tables.extend(
            _Table(table=t, role=r, path=path, order=order, explicit=forced is not None)
            for r, t in found
        )
        ignored.extend((path, fmt, label, why) for label, why in skipped)

    labels = _labels(list(dict.fromkeys([t.path for t in tables] + [p for p, *_ in ignored])))
    for t in tables:
        base = labels[t.path]
        label = f"{base}[{t.table.sheet}]" if t.table.sheet else base
        if t.table.year is not None:
            label += f"[YEAR={t.table.year}]"
        t.table = replace(t.table, label=label)

    roles = {t.role for t in tables}
    if not roles & PLACEMENT_ROLES:
        listed = "; ".join(
            [f"{t.table.name}: recognised as {t.role}" for t in tables]
            + [f"{label}: skipped, {why}" for _, _, label, why in ignored]
        )
        raise InputError(
            f"No placements table found in {', '.join(str(p) for p in named)} ({listed or 'no files'}). "
            "Expected the SSDA903 XML return, an Episodes table (CHILD, DECOM, LS, PLACE, "
            "HOME_POST, PL_POST, ...) or one row per child (CHILD, HOME_POST, PL_POST), as CSV "
            "or XLSX."
        )
    if {"episodes", "child"} <= roles:
        kinds = {r: [t.table.name for t in tables if t.role == r] for r in ("episodes", "child")}
        raise InputError(
            f"The input mixes SSDA903 Episodes tables ({', '.join(kinds['episodes'])}) with "
            f"one-row-per-child tables ({', '.join(kinds['child'])}). Use one form: Episodes "
            "(with DECOM and LS) for every year, or one row per child."
        )

    rejects = Rejects()
    rows = [len(t.table.frame) for t in tables]
    checking = f"checking {sum(rows):,} rows in {len(tables):,} tables"
    for i, t in enumerate(tables):
        report(progress, checking, sum(rows[:i]), sum(rows), "rows")
        t.valid = _validate_table(t, rejects, key=str(i))
    _group_tables(tables)
    returns = _rank_returns(tables)
    for t in tables:
        assert t.valid is not None
        t.valid["_rank"] = t.rank

    form = "episodes" if "episodes" in roles else "child"
    placement_tables = [t for t in tables if t.role in PLACEMENT_ROLES]
    header_tables = [t for t in tables if t.role == "header"]
    uasc_tables = [t for t in tables if t.role == "uasc"]
    uasc_from_header = [_uasc_from_header(t) for t in header_tables if "DUC" in t.table.frame]

    def columns_of(group: list[_Table], extra: dict[str, set[str]] | None = None):
        out = {t.table.name: set(t.table.frame.columns) for t in group}
        return {**out, **(extra or {})}

    merged = merge_rows(
        _concat([t.valid for t in placement_tables if t.valid is not None]),
        key=["CHILD", "DECOM"] if form == "episodes" else ["CHILD"],
        table="episodes" if form == "episodes" else "placements",
        columns_by_file=columns_of(placement_tables),
    )
    episodes = merged.frame.drop(columns="_rank").reset_index(drop=True)
    differences = [merged.differences]
    duplicates = dict(merged.duplicates)

    children = pd.DataFrame({"CHILD": pd.Series(dtype="string")})
    if header_tables:
        frames = [
            t.valid.drop(columns=[c for c in ("UASC", "DUC") if "DUC" in t.table.frame])
            for t in header_tables
            if t.valid is not None
        ]
        m = merge_rows(
            _concat(frames),
            key=["CHILD"],
            table="header",
            columns_by_file=columns_of(header_tables),
        )
        children = m.frame.drop(columns="_rank").reset_index(drop=True)
        differences.append(m.differences)
        for k, v in m.duplicates.items():
            duplicates[f"header:{k}"] = v

    uasc_frame = pd.DataFrame(
        {"CHILD": pd.Series(dtype="string"), "DUC": pd.Series(dtype="datetime64[ns]")}
    )
    if uasc_tables or uasc_from_header:
        frames = [t.valid for t in uasc_tables if t.valid is not None] + uasc_from_header
        extra = {f["_file"].iloc[0]: {"UASC", "DUC"} for f in uasc_from_header if len(f)}
        m = merge_rows(
            _concat(frames),
            key=["CHILD"],
            table="uasc",
            columns_by_file=columns_of(uasc_tables, extra),
        )
        kept = m.frame
        if "UASC" in kept.columns:  # XML: a later "not UASC" header overrides an earlier one
            kept = kept[kept["UASC"].astype("boolean").fillna(True).astype(bool)]
            kept = kept.drop(columns="UASC")
        uasc_frame = kept.drop(columns="_rank").reset_index(drop=True)
        if "DUC" not in uasc_frame.columns:
            uasc_frame["DUC"] = pd.Series(pd.NaT, index=uasc_frame.index, dtype="datetime64[ns]")
        differences.append(m.differences)
        for k, v in m.duplicates.items():
            if k in {t.table.name for t in uasc_tables}:
                duplicates[f"uasc:{k}"] = v

    sources = []
    for i, t in enumerate(tables):
        prefix = "" if t.role in PLACEMENT_ROLES else f"{t.role}:"
        sources.append(
            SourceReport(
                file=t.table.name,
                path=str(t.path),
                format=t.table.fmt,
                role=t.role,
                return_label=returns[t.rank].label,
                rows_read=len(t.table.frame)
                + len(t.table.bad_rows)
                + sum(t.table.set_aside.values()),
                rows_rejected=len(rejects.rows.get(str(i), ())),
                rows_merged=duplicates.get(prefix + t.table.name, 0),
                rows_other_authority=sum(t.table.set_aside.values()),
                other_authorities=dict(t.table.set_aside),
                reject_reasons=dict(rejects.reasons.get(str(i), Counter()).most_common()),
            )
        )
    for path, fmt, label, why in ignored:
        sources.append(
            SourceReport(file=label, path=str(path), format=fmt, role="ignored", note=why)
        )

    rows_read: dict[str, int] = {}
    files: dict[str, str] = {}
    for role, group in (
        ("placements", placement_tables),
        ("header", header_tables),
        ("uasc", uasc_tables),
    ):
        group = [t for t in group if not (role != "placements" and t.table.fmt == "xml")]
        if not group:
            continue
        rows_read[role] = sum(len(t.table.frame) + len(t.table.bad_rows) for t in group)
        for n, t in enumerate(group):
            name = role if n == 0 else f"{role}_{n + 1}"
            files[name] = str(t.path.parent / t.table.name) if t.table.sheet else str(t.path)
    if any(t.table.fmt == "xml" for t in header_tables):
        rows_read["header"] = sum(len(t.table.frame) + len(t.table.bad_rows) for t in header_tables)
    all_differences = [d for d in differences if len(d)]
    return PlacementData(
        form=form,
        episodes=episodes,
        children=children,
        uasc=uasc_frame,
        rejects=rejects.frame(),
        rows_read=rows_read,
        files=files,
        sources=tuple(sources),
        returns=returns,
        merge_differences=pd.concat(all_differences, ignore_index=True)
        if all_differences
        else empty_differences(),
    )


def _uasc_from_header(t: _Table) -> pd.DataFrame:
    """UASC status carried in an XML Header (``UASC`` flag, ``DUC``) as UASC rows: every child,
    with ``UASC`` True when flagged or ceased, so a later return's "not UASC" can win."""
    v = t.valid
    assert v is not None
    flag = v["UASC"].astype("boolean").fillna(False) if "UASC" in v else False
    duc = v["DUC"] if "DUC" in v else pd.Series(pd.NaT, index=v.index, dtype="datetime64[ns]")
    return pd.DataFrame(
        {
            "CHILD": v["CHILD"],
            "DUC": duc,
            "UASC": pd.array(np.asarray(flag | duc.notna(), dtype=bool), dtype="boolean"),
            "_file": v["_file"],
            "_row": v["_row"],
            "_rank": v["_rank"],
        }
    )
