"""Uploaded files: decoded, checked and stored server-side, outside the web root.

Names are never used as paths (the file is stored under a generated name); size is limited; the
content must be text CSV (binary, zip and Office files are refused by content, not extension, so
nothing is ever decompressed: a zip bomb named ``.csv`` is refused before anything is unpacked).
Cells are only ever read as text, never evaluated; exports pass user-supplied text through
:func:`neutralise_formulas` so a spreadsheet opening them cannot run ``=``/``+``/``-``/``@``
formulas (CSV injection). Each upload lives in its own 0700 folder (files 0600) under
:func:`upload_root`, outside the web root, so every worker can load it by id and
:func:`delete_upload` removes it for good.
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from geo.errors import InputError

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
ROLES = ("episodes", "header", "uasc", "carers")
UPLOAD_ID = re.compile(r"up-[0-9a-f]{12}")
META = "upload.json"


@dataclass(frozen=True)
class StoredUpload:
    dataset_id: str
    folder: Path
    files: dict[str, Path]  # role -> stored path
    original_names: dict[str, str]


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


_MAGIC = {
    b"PK\x03\x04": "a zip archive (or an Excel .xlsx file)",
    b"\x1f\x8b": "a gzip archive",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ\x00": "an xz archive",
    b"\x28\xb5\x2f\xfd": "a zstandard archive",
    b"\x04\x22\x4d\x18": "an lz4 archive",
    b"\x1f\x9d": "a compress (.Z) archive",
    b"SQLite format 3": "an SQLite database",
    b"\x80\x04\x95": "a Python pickle",
    b"\x80\x05\x95": "a Python pickle",
    b"\xd0\xcf\x11\xe0": "an old Office document (.xls)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"7z\xbc\xaf": "a 7-zip archive",
    b"Rar!": "a RAR archive",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
}


UPLOAD_EXTENSIONS = (".csv", ".xml", ".xlsx")  # stored names: <role><ext>, never the client's
XLSX_MAX_UNPACKED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100


def is_xlsx(raw: bytes) -> bool:
    """An Excel workbook whose zip directory is sane: read from the central directory only,
    nothing is decompressed here; unpacked size and compression ratio are capped (zip bombs)."""
    if not raw.startswith(b"PK\x03\x04"):
        return False
    import io
    import zipfile

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError):
        return False
    names = {i.filename for i in infos}
    unpacked = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    return (
        "xl/workbook.xml" in names
        and unpacked <= XLSX_MAX_UNPACKED
        and unpacked / packed <= XLSX_MAX_RATIO
    )


def is_ssda903_xml(raw: bytes) -> bool:
    """The DfE SSDA903 XML return (root EXPSSDA903), UTF-8 or UTF-16."""
    head = raw[:65536]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    return head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and b"EXPSSDA903" in head


def sniff_text(raw: bytes, *, name: str) -> None:
    """Refuse content that is not CSV text, an SSDA903 XML return or an Excel workbook (by
    magic bytes, NUL and control bytes, not extension)."""
    if is_xlsx(raw) or is_ssda903_xml(raw):
        return  # parsed safely by geo (defusedxml; openpyxl read-only, values only)
    for magic, what in _MAGIC.items():
        if raw.startswith(magic):
            raise InputError(
                f"The upload '{safe_name(name)}' is {what}, not a CSV text file. Export each "
                "table as CSV (comma-separated, UTF-8) and upload those."
            )
    head = raw[:65536]
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13))
    if b"\x00" in head or controls > len(head) // 100:
        raise InputError(
            f"The upload '{safe_name(name)}' contains binary data, not CSV text. Export the "
            "table as CSV (comma-separated, UTF-8)."
        )


# Spreadsheets run a cell that starts with one of these as a formula (CSV/formula injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value: Any) -> Any:
    """Prefix a text cell a spreadsheet would evaluate with ``'`` (OWASP); other values as is."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to export: text cells that look like formulas are neutralised.

    Numbers (including negative ones) are untouched; only text columns are changed, and column
    names are neutralised too.
    """
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise_cell).astype(object)
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def guess_role(name: str, raw: bytes) -> str:
    """episodes / header / uasc / carers from the header line (or the file name as a hint).
    An SSDA903 XML return or a workbook holds every table: it is the placements input."""
    if is_xlsx(raw) or is_ssda903_xml(raw):
        return "episodes"
    first = raw[:4096].decode("utf-8-sig", errors="replace").splitlines()[:1]
    cols = {c.strip().strip('"').upper() for c in (first[0].split(",") if first else [])}
    if {"CARER_ID", "APPROVED_PLACES"} & cols:
        return "carers"
    if "DUC" in cols:
        return "uasc"
    if {"HOME_POST", "PL_POST"} <= cols:
        return "episodes"
    if {"CHILD", "DOB"} <= cols or "UPN" in cols:
        return "header"
    lower = name.lower()
    for role in ROLES:
        if role in lower:
            return role
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


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def store_upload(
    root: Path, parts: list[tuple[str, bytes]], *, uploaded_by: str | None = None
) -> StoredUpload:
    """Write the uploaded parts into a new private folder under ``root`` (0700 / 0600).

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
            role = guess_role(name, raw)
            if role in files:
                raise InputError(
                    f"Two uploads look like the {role} table ('{names[role]}' and "
                    f"'{safe_name(name)}'). Upload one file per table."
                )
            ext = ".xlsx" if is_xlsx(raw) else ".xml" if is_ssda903_xml(raw) else ".csv"
            _write_private(staging / f"{role}{ext}", raw)
            files[role] = root / dataset_id / f"{role}{ext}"
            names[role] = safe_name(name)
        if "episodes" not in files:
            raise InputError(
                "No placements table among the uploads: expected SSDA903 Episodes or a "
                "one-row-per-child CSV with CHILD, HOME_POST and PL_POST columns."
            )
        meta = {
            "dataset_id": dataset_id,
            "original_names": names,
            "uploaded_by": uploaded_by,
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
    return StoredUpload(dataset_id=dataset_id, folder=folder, files=files, original_names=names)


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
