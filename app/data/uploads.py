"""Uploaded files: decoded, checked and stored server-side, outside the web root.

Names are never used as paths (the file is stored under a generated name); size is limited; the
content must be text CSV (binary, zip and Office files are refused by content, not extension, so
nothing is ever decompressed: a zip bomb named ``.csv`` is refused before anything is unpacked).
Cells are only ever read as text, never evaluated; exports pass user-supplied text through
:func:`geo.writing.neutralise_formulas` so a spreadsheet opening them cannot run ``=``/``+``/``-``/``@``
formulas (CSV injection). Each upload lives in its own 0700 folder (files 0600) under
:func:`upload_root`, outside the web root, so every worker can load it by id and
:func:`delete_upload` removes it for good.

**Bounded work.** An upload is refused before it is parsed when a CSV has more than
``max_rows`` lines (``PLACEMAP_MAX_UPLOAD_ROWS``) or a workbook would unpack to more than
:data:`WORKBOOK_BYTES_PER_ROW` bytes per allowed row (any member, with the per-member ratio check
of :func:`geo.ssda903.is_xlsx`), so one upload cannot hold a worker's memory or CPU for long.

**Ownership.** ``upload.json`` names who uploaded the data (``uploaded_by``) and whom it is
shared with (``shared_with``: user names, or ``"*"``); :func:`share_upload` changes the latter.
The app lets only those users open it (``app.auth.security.may_open_upload``) and only the
uploader delete it.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from geo.errors import InputError
from geo.ssda903 import FileKind, file_kind, header_columns, is_xlsx, recognise
from geo.ssda903.sniff import SNIFF_BYTES, describe_table
from geo.writing import atomic_write_bytes

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
ROLES = ("episodes", "header", "uasc", "carers")
UPLOAD_ID = re.compile(r"up-[0-9a-f]{12}")
META = "upload.json"
DEFAULT_MAX_ROWS = 200_000  # an authority's SSDA903 return over several years is far smaller
WORKBOOK_BYTES_PER_ROW = 250  # unpacked sheet XML allowed per row of the cap (typical: ~150)


@dataclass(frozen=True)
class StoredUpload:
    dataset_id: str
    folder: Path
    files: dict[str, Path]  # role -> stored path
    original_names: dict[str, str]
    as_at: date | None = None  # the census date chosen on the Data page, if any


def safe_name(name: str) -> str:
    """A display-safe version of a client file name (no directories, no control characters)."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _SAFE.sub("_", base).strip("._") or "upload.csv"
    return cleaned[:80]


def decode_contents(contents: str, *, name: str, max_bytes: int) -> bytes:
    """Decode a ``dcc.Upload`` data URL, enforcing the size limit before decoding fully."""
    try:
        _header, b64 = contents.split(",", 1)
    except ValueError as err:
        raise InputError(
            f"The upload '{safe_name(name)}' could not be read (not a data URL)."
        ) from err
    if len(b64) * 3 // 4 > max_bytes:
        raise InputError(
            f"The upload '{safe_name(name)}' is larger than the {max_bytes // (1024 * 1024)} MB "
            "limit. Split the file by year or ask an administrator to raise "
            "PLACEMAP_MAX_UPLOAD_MB."
        )
    try:
        raw = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as err:
        raise InputError(f"The upload '{safe_name(name)}' is not valid base64 data.") from err
    sniff_text(raw, name=name)
    return raw


UPLOAD_EXTENSIONS = (".csv", ".xml", ".xlsx")  # stored names: <role><ext>, never the client's


def upload_kind(raw: bytes, *, name: str) -> FileKind:
    """What an upload is (:func:`geo.ssda903.file_kind`): the SSDA903 XML return, an Excel
    workbook (zip directory checked against bombs; nothing decompressed here) or CSV text.
    Raises :class:`InputError` for anything else (archives, databases, programs, binary)."""
    return file_kind(raw[:SNIFF_BYTES], name=safe_name(name), what="upload", source=raw)


def sniff_text(raw: bytes, *, name: str) -> None:
    """Refuse content that is not CSV text, an SSDA903 XML return or an Excel workbook (by
    content, not extension)."""
    upload_kind(raw, name=name)


def guess_role(name: str, raw: bytes) -> str:
    """episodes / header / uasc / carers, recognised by content (:func:`geo.ssda903.recognise`
    on the header line; the file name only breaks a tie). An SSDA903 XML return or a workbook
    holds every table: it is the placements input."""
    if upload_kind(raw, name=name) is not FileKind.TEXT:
        return "episodes"
    cols = header_columns(raw)
    role = recognise(cols)
    if role in ("episodes", "child"):
        return "episodes"
    if role in ROLES:
        return str(role)
    if role is not None:
        raise InputError(
            f"'{safe_name(name)}' is {describe_table(role)}, which placemap does not use. "
            "Upload the Episodes table (or the XML return, or a workbook), with the Header, UASC "
            "and a carers register if you have them."
        )
    lower = name.lower()
    for hint in ROLES:
        if hint in lower:
            return hint
    raise InputError(
        f"Could not tell what '{safe_name(name)}' is from its columns {sorted(cols)[:12]}. "
        "Expected SSDA903 Episodes (with HOME_POST, PL_POST), Header (CHILD, DOB), UASC "
        "(CHILD, DUC) or a carers register (CARER_ID, APPROVED_PLACES)."
    )


def upload_root(settings: Any) -> Path:
    """Where uploads live: ``PLACEMAP_UPLOAD_DIR``, else ``<cache or user data dir>/uploads``.

    Created 0700 (only the service account can list or read uploads); interrupted uploads left
    behind by a killed worker (``.tmp-*`` folders older than an hour) are removed.
    """
    if settings.upload_dir is not None:
        root = Path(settings.upload_dir)
    else:
        import platformdirs

        base = settings.cache_dir or Path(platformdirs.user_data_dir("placemap"))
        root = Path(base) / "uploads"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    if root.stat().st_mode & 0o077:
        root.chmod(0o700)
    cutoff = datetime.now(UTC).timestamp() - 3600
    for tmp in root.glob(".tmp-*"):
        if tmp.stat().st_mtime < cutoff:
            shutil.rmtree(tmp, ignore_errors=True)
    return root


def check_size(raw: bytes, *, name: str, max_rows: int) -> None:
    """Refuse an upload that would take too long or too much memory to read: a CSV with more
    than ``max_rows`` lines, or a workbook unpacking to more than ``max_rows`` ×
    :data:`WORKBOOK_BYTES_PER_ROW` bytes (or a member packed more than 100:1). Raises
    InputError naming the file, what was found and the limit."""
    kind = upload_kind(raw, name=name)
    if kind is FileKind.TEXT:
        rows = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1) - 1  # minus the header
        if rows > max_rows:
            raise InputError(
                f"The upload '{safe_name(name)}' has {rows:,} rows, above the limit of "
                f"{max_rows:,} rows per file. Upload one year at a time, or ask an administrator "
                "to raise PLACEMAP_MAX_UPLOAD_ROWS."
            )
    elif kind is FileKind.XLSX:
        is_xlsx(raw, name=safe_name(name), max_mb=max_rows * WORKBOOK_BYTES_PER_ROW / 1024 / 1024)


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def store_upload(
    root: Path,
    parts: list[tuple[str, bytes]],
    *,
    uploaded_by: str | None = None,
    max_rows: int = DEFAULT_MAX_ROWS,
) -> StoredUpload:
    """Write the uploaded parts into a new private folder under ``root`` (0700 / 0600), owned
    by ``uploaded_by``; each part is first checked against ``max_rows`` (:func:`check_size`).

    All or nothing: files are written (and fsynced) into a hidden temporary folder that is
    renamed to the dataset id only when complete, so a worker killed mid-upload never leaves a
    half-written dataset that another worker could load.
    """
    dataset_id = "up-" + uuid.uuid4().hex[:12]
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = root / f".tmp-{dataset_id}"
    staging.mkdir(mode=0o700)
    files: dict[str, Path] = {}
    names: dict[str, str] = {}
    try:
        for name, raw in parts:
            check_size(raw, name=name, max_rows=max_rows)
            role = guess_role(name, raw)
            if role in files:
                raise InputError(
                    f"Two uploads look like the {role} table ('{names[role]}' and "
                    f"'{safe_name(name)}'). Upload one file per table."
                )
            ext = {FileKind.XLSX: ".xlsx", FileKind.XML: ".xml"}.get(
                upload_kind(raw, name=name), ".csv"
            )
            _write_private(staging / f"{role}{ext}", raw)
            files[role] = root / dataset_id / f"{role}{ext}"
            names[role] = safe_name(name)
        if "episodes" not in files:
            raise InputError(
                "No placements table among the uploads: expected SSDA903 Episodes or a "
                "one-row-per-child CSV with CHILD, HOME_POST and PL_POST columns."
            )
        meta: dict[str, Any] = {
            "dataset_id": dataset_id,
            "original_names": names,
            "uploaded_by": uploaded_by,
            "shared_with": [],
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        _write_private(staging / META, json.dumps(meta).encode("utf-8"))
        os.rename(staging, root / dataset_id)
        dir_fd = os.open(root, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return StoredUpload(
        dataset_id=dataset_id, folder=root / dataset_id, files=files, original_names=names
    )


def is_upload_id(value: object) -> bool:
    return isinstance(value, str) and UPLOAD_ID.fullmatch(value) is not None


def upload_meta(root: Path, dataset_id: str) -> dict[str, Any] | None:
    """The stored upload's metadata (``uploaded_by``, ``shared_with``, ...), None if absent."""
    if not is_upload_id(dataset_id):
        return None
    try:
        meta = json.loads((root / dataset_id / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def share_upload(root: Path, dataset_id: str, users: list[str]) -> dict[str, Any]:
    """Let ``users`` (names, or ``"*"`` for everyone signed in) open the upload as well;
    an empty list makes it private again. Raises InputError when there is no such upload."""
    meta = upload_meta(root, dataset_id)
    if meta is None:
        raise InputError(f"There is no upload '{str(dataset_id)[:40]}'.")
    meta["shared_with"] = sorted({str(u).strip().lower() for u in users if str(u).strip()})
    target = root / dataset_id / META
    atomic_write_bytes(target, json.dumps(meta).encode("utf-8"))
    os.chmod(target, 0o600)
    return meta


def set_upload_census(root: Path, dataset_id: str, as_at: date) -> None:
    """Keep ``as_at`` as the upload's census date (chosen on the Data page) in its metadata;
    nothing happens when there is no such upload."""
    meta = upload_meta(root, dataset_id)
    if meta is None:
        return
    meta["as_at"] = as_at.isoformat()
    target = root / dataset_id / META
    atomic_write_bytes(target, json.dumps(meta).encode("utf-8"))
    os.chmod(target, 0o600)


def _census_of(meta: dict[str, Any]) -> date | None:
    try:
        return date.fromisoformat(str(meta["as_at"]))
    except (KeyError, ValueError):
        return None


def open_upload(root: Path, dataset_id: str) -> StoredUpload | None:
    """The stored upload ``dataset_id`` (e.g. made by another worker), or None if not there.

    Only ids of the form this module makes are looked up, so an id can never name a path.
    """
    if not is_upload_id(dataset_id):
        return None
    folder = root / dataset_id
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    files = {
        role: folder / f"{role}{ext}"
        for role in ROLES
        for ext in UPLOAD_EXTENSIONS
        if (folder / f"{role}{ext}").is_file()
    }
    if "episodes" not in files:
        return None
    names = {str(k): str(v) for k, v in dict(meta.get("original_names") or {}).items()}
    return StoredUpload(
        dataset_id=dataset_id,
        folder=folder,
        files=files,
        original_names=names,
        as_at=_census_of(meta),
    )


def delete_upload(root: Path, dataset_id: str) -> bool:
    """Remove an uploaded dataset's folder for good. Only ids this module made are accepted."""
    if not is_upload_id(dataset_id):
        return False
    folder = root / dataset_id
    if not folder.is_dir():
        return False
    # Rename first: from this instant no worker can load it, even if the removal is interrupted.
    doomed = root / f".tmp-deleted-{dataset_id}-{uuid.uuid4().hex[:6]}"
    os.rename(folder, doomed)
    shutil.rmtree(doomed)
    return not folder.exists()
