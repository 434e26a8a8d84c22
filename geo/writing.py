"""Writing outputs: atomically (a reader never sees a half-written file) and formula-safe (a
spreadsheet opening a CSV or workbook never runs a cell as a formula).

:func:`neutralise_cell` / :func:`neutralise_formulas` are the one CSV-injection rule: every CSV,
XLSX and audit export calls them (directly or through :func:`csv_bytes`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename over ``path``."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_with(path: str | Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` produce a file at a temporary path, then move it into place atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
    os.close(fd)
    try:
        writer(Path(tmp))
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


# A spreadsheet runs a text cell that starts with one of these as a formula (OWASP CSV injection),
# including the full-width forms some spreadsheets fold to ASCII.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def neutralise_cell(value: Any) -> Any:
    """``value`` unchanged unless it is text a spreadsheet would read as a formula, which gets a
    leading ``'``. Numbers (negative ones too), NaN and ``None`` pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to export: text cells (and column names) that look like formulas
    get a leading ``'``; numeric columns are untouched. Vectorised: one pass per text column."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            try:
                starts = values.str.startswith(FORMULA_STARTS)
            except AttributeError:  # an object column without text (numbers, dates): nothing runs
                continue
            risky = starts.fillna(False).astype(bool)
            if bool(risky.any()):
                values = values.astype(object)
                values[risky] = "'" + values[risky].astype(str)
                out[col] = values
    out.columns = [neutralise_cell(c) for c in out.columns]
    return out


def user_cache_dir() -> Path:
    """placemap's folder in the user cache (``platformdirs.user_cache_dir("placemap")``): where
    the demo and downloaded or derived boundaries are kept when no cache folder is given."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("placemap"))


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """``frame`` as UTF-8 CSV without the index, formula-safe (:func:`neutralise_formulas`)."""
    return neutralise_formulas(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")


def jsonable(obj: Any) -> Any:
    """``obj`` as strict JSON values: NaN, NA and infinities become ``null``, numpy numbers
    plain ``int``/``float`` (a float that counts something is the caller's to make an int),
    dates ISO text, anything else ``str``."""
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in obj]
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if obj is pd.NA or obj is pd.NaT:
        return None
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


def json_bytes(obj: Any) -> bytes:
    """Strict JSON (RFC 8259: no NaN or Infinity) of ``obj``, indented, UTF-8."""
    return (json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n").encode("utf-8")


def write_outputs(out_dir: str | Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write several outputs into ``out_dir``, all or nothing as far as a file system allows.

    Everything is rendered before the call; each file goes to a temporary file beside its target
    first (the slow part: writing and fsync), and only when all are written are they renamed into
    place, in order. An interruption (Ctrl-C, a full disk) before the renames leaves the folder
    as it was, temporary files removed."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out)
            staged.append((tmp, out / name))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for tmp, target in staged:
            os.replace(tmp, target)
    except BaseException:
        for tmp, _ in staged:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        raise
    return [target for _, target in staged]
