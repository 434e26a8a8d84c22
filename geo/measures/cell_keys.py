"""Record keys and cell keys for the cell-key method (DESIGN.md §7; the perturbation itself is
:mod:`geo.disclosure.cellkey`).

Every child gets a fixed *record key*, a number from 0 to 255 drawn from a keyed hash of the
child's identifier, so the same child has the same key on every page, census date and output.
A count's *cell key* is the sum of the record keys of the children it counts, modulo 256: the
same set of children always gives the same cell key, and so the same perturbation, however the
count was asked for. Measures call :func:`cell_key_sums` beside each count they publish.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

KEY_SPACE = 256
# Not a secret: someone who knows which children a count covers knows the count already. It
# separates placemap's keys from any other use of the same identifiers.
_SALT = b"placemap-cell-key-v1"


def record_keys(ids: pd.Series | np.ndarray | list[object]) -> np.ndarray:
    """The record key (0..255) of each identifier (``CHILD``; the same identifier, the same
    key). Missing identifiers get key 0."""
    values = pd.Series(ids, dtype="object").to_numpy()
    out = np.zeros(len(values), dtype=np.int64)
    cache: dict[str, int] = {}
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            continue
        s = str(v).strip()
        k = cache.get(s)
        if k is None:
            k = hashlib.blake2b(s.encode(), digest_size=2, key=_SALT).digest()[0]
            cache[s] = k
        out[i] = k
    return out


def cell_key_sums(
    keys: np.ndarray, groups: pd.Series | np.ndarray, selected: np.ndarray | None = None
) -> pd.Series:
    """Cell key per group: the sum of the record keys of the selected rows, modulo 256."""
    k = np.asarray(keys, dtype=np.int64)
    if selected is not None:
        k = np.where(np.asarray(selected, dtype=bool), k, 0)
    sums = pd.Series(k).groupby(np.asarray(groups), sort=False).sum()
    return sums % KEY_SPACE


def cell_key(keys: np.ndarray, selected: np.ndarray | None = None) -> int:
    """Cell key of one count: the selected rows' record keys summed modulo 256."""
    k = np.asarray(keys, dtype=np.int64)
    if selected is not None:
        k = k[np.asarray(selected, dtype=bool)]
    return int(k.sum() % KEY_SPACE)


def dataset_secret(ids: pd.Series | np.ndarray | list[object]) -> bytes:
    """A secret of one dataset for definition keys (:func:`geo.disclosure.cellkey.definition_key`):
    a hash of its children's identifiers, which someone who sees only aggregates does not know,
    and which the app and the command line derive alike from the same data."""
    values = sorted({str(v).strip() for v in pd.Series(ids, dtype="object").dropna()})
    h = hashlib.blake2b(digest_size=16, key=_SALT)
    for v in values:
        h.update(v.encode())
        h.update(b"\0")
    return h.digest()
