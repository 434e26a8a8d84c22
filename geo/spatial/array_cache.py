"""A folder of named numpy arrays on disk, written atomically and read memory-mapped.

Used for the compact postcode arrays (:mod:`geo.spatial.postcodes`): built once from the
postcode package, then every later process maps the files instead of decompressing and
decoding the package again. A folder is written under a temporary name and renamed into place
in one step, so a reader (another process, another worker) sees either no folder or a whole
one; when two processes build the same folder at once the first rename wins and the other's
copy is discarded. A folder that cannot be read (damaged, from another numpy) counts as absent.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

_COMPLETE = "complete"  # written last: a folder without it is not used


def load_arrays(folder: Path, names: tuple[str, ...]) -> dict[str, np.ndarray] | None:
    """The arrays ``names`` of ``folder`` memory-mapped read-only, or ``None`` when the folder
    is absent, incomplete or damaged."""
    if not (folder / _COMPLETE).is_file():
        return None
    try:
        return {
            name: np.load(folder / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            for name in names
        }
    except (OSError, ValueError):
        return None


def save_arrays(folder: Path, arrays: dict[str, np.ndarray]) -> bool:
    """Write ``arrays`` as ``folder`` (one ``.npy`` file each), atomically. Returns False when
    the cache cannot be written (read-only or full disk): the caller keeps its arrays in memory.
    A damaged folder already there is replaced; a whole one (another process's) is kept."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    except OSError:
        return False
    try:
        for name, values in arrays.items():
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, np.ascontiguousarray(values), allow_pickle=False)
                fh.flush()
                os.fsync(fh.fileno())
        (tmp / _COMPLETE).write_bytes(b"")
        if folder.exists() and load_arrays(folder, tuple(arrays)) is None:
            shutil.rmtree(folder, ignore_errors=True)  # damaged or incomplete: make way
        try:
            os.replace(tmp, folder)
        except OSError:  # another process's whole copy got there first: it is as good
            return load_arrays(folder, tuple(arrays)) is not None
        return True
    except OSError:
        return False
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)
