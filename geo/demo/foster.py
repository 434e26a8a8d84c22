"""Matching foster children to vacant places of carers in the generated register.

Near-flagged children get a carer within 20 DfE miles of home, far-flagged ones a carer beyond;
carers approved for the child's age band (and for disability, for a disabled child) are
preferred. Most children are matched in a few vectorised rounds, the rest one by one.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from geo.demo.carers import AGE_BAND_BITS
from geo.demo.pools import FAR_MEAN_EXTRA_MILES, NEAR_MEAN_MILES, Targets, dfe_miles
from geo.demo.sampling import gumbel_pick
from geo.errors import InputError
from geo.spatial.distance import METRES_PER_MILE, dfe_miles_from_metres
from geo.ssda903 import CATEGORY_BIT, Category


def assign_foster(
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    far: np.ndarray,
    band: np.ndarray,
    disabled: np.ndarray,
    ce: np.ndarray,
    cn: np.ndarray,
    cats: np.ndarray,
    vacancy: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Give each foster child a vacant place: near-flagged children first, with a carer within
    20 DfE miles (nearer and suitably approved carers preferred), then the far-flagged ones with
    a carer beyond 20 miles. ``band`` is each child's age-band index
    (:func:`geo.ssda903.age_band_index`), ``cats`` each carer's category bit mask. Returns the
    carer of each child (local index) and whether it is more than 20 miles away (a near child for
    whom no near place is left goes further). Raises :class:`InputError` when the carers have
    fewer vacant places than there are children."""
    k, m = len(he), len(ce)
    out = np.full(k, -1)
    got_far = far.copy()
    if k == 0:
        return out, got_far
    vac = vacancy.astype(int).copy()
    if vac.sum() < k:
        raise InputError(
            f"The demo recipe gives {int(vac.sum())} vacant foster places for {k} foster "
            "children; raise the number of carers or their approved places."
        )
    tree = cKDTree(np.column_stack([ce, cn]))
    # Carers around a target point at a typical distance from home (near: mostly under 10
    # miles; far: 20-40 miles), so distances do not depend on how dense carers are locally.
    near_t = Targets(
        rng, he, hn, tree, ce, cn, np.minimum(rng.exponential(NEAR_MEAN_MILES, k), 18.5), k=16
    )
    far_t = Targets(
        rng, he, hn, tree, ce, cn, 20.5 + rng.exponential(FAR_MEAN_EXTRA_MILES, k), k=16
    )
    band_bit = AGE_BAND_BITS[band]
    dis_bit = CATEGORY_BIT[Category.DISABILITY]
    radius_m = (20.0 + 0.05) * METRES_PER_MILE

    def suitability(cand: np.ndarray) -> np.ndarray:
        """Log-weight bonus of candidate carers approved for the child's age band / disability."""
        bonus = np.where((cats[cand] & band_bit[:, None]) != 0, np.log(4.0), 0.0)
        has_dis = (cats[cand] & dis_bit) != 0
        return bonus + np.where(disabled[:, None] & has_dis, np.log(3.0), 0.0)

    # Most children are placed in a few vectorised rounds; the rest one by one below.
    near_rows = np.flatnonzero(~far)
    got = _rounds(
        rng,
        near_rows,
        near_t.idx,
        near_t.miles_home <= 20.0,
        -near_t.miles_target / 2.0 + suitability(near_t.idx),
        vac,
    )
    out[near_rows] = got
    got_far[near_rows[got >= 0]] = False
    far_rows = np.flatnonzero(far)
    got = _rounds(
        rng,
        far_rows,
        far_t.idx,
        far_t.miles_home > 20.0,
        -far_t.miles_target / 3.0 + suitability(far_t.idx),
        vac,
    )
    out[far_rows] = got
    left = out < 0
    order = np.concatenate(
        [rng.permutation(np.flatnonzero(left & ~far)), rng.permutation(np.flatnonzero(left & far))]
    )
    # The carers nearest home, for the few children the rounds could not place.
    kk = min(48, m)
    i_knn = np.zeros((k, kk), dtype=int)
    miles_knn = np.zeros((k, kk))
    if len(order):
        d, idx = tree.query(np.column_stack([he[order], hn[order]]), k=kk)
        i_knn[order] = idx.reshape(len(order), -1)
        miles_knn[order] = dfe_miles_from_metres(d.reshape(len(order), -1))

    def pick(i: int, idx: np.ndarray, log_w: np.ndarray) -> int:  # one child, by hand
        suit = (cats[idx] & band_bit[i]) != 0
        log_w = log_w + np.where(suit, np.log(4.0), 0.0)
        if disabled[i]:
            log_w = log_w + np.where((cats[idx] & dis_bit) != 0, np.log(3.0), 0.0)
        g = -np.log(-np.log(rng.random(len(idx))))
        return int(idx[np.argmax(log_w + g)])

    for i in order:
        if not far[i]:
            idx, miles = i_knn[i], miles_knn[i]
            ok = (vac[idx] > 0) & (miles <= 20.0)
            if not ok.any() and kk < m and miles[-1] <= 20.0:
                idx = np.asarray(tree.query_ball_point([he[i], hn[i]], radius_m), dtype=int)
                miles = dfe_miles(he[i], hn[i], ce[idx], cn[idx])
                ok = (vac[idx] > 0) & (miles <= 20.0)
            if ok.any():
                j = pick(i, idx[ok], -miles[ok] / NEAR_MEAN_MILES)
                out[i] = j
                vac[j] -= 1
                got_far[i] = False
                continue
        idx = np.unique(np.concatenate([rng.integers(0, m, 192), i_knn[i]]))
        miles = dfe_miles(he[i], hn[i], ce[idx], cn[idx])
        ok = (vac[idx] > 0) & (miles > 20.0)
        if not ok.any():
            idx = np.flatnonzero(vac > 0)
            miles = dfe_miles(he[i], hn[i], ce[idx], cn[idx])
            ok = miles > 20.0
            if not ok.any():
                ok = np.ones(len(idx), bool)
        j = pick(i, idx[ok], -np.abs(miles[ok] - 20.0) / 15.0)
        out[i] = j
        vac[j] -= 1
        got_far[i] = bool(dfe_miles(he[i], hn[i], ce[j], cn[j]) > 20.0)
    return out, got_far


def _rounds(
    rng: np.random.Generator,
    rows: np.ndarray,
    cand: np.ndarray,
    valid: np.ndarray,
    log_w: np.ndarray,
    vac: np.ndarray,
    n_rounds: int = 8,
) -> np.ndarray:
    """Vectorised matching: each child of ``rows`` proposes one vacant valid candidate (weighted
    pick); a carer accepts as many proposals as it has vacancies, in random order; rejected
    children propose again. ``vac`` is decremented in place; -1 where nobody accepted."""
    out = np.full(len(rows), -1)
    todo = np.arange(len(rows))
    for _ in range(n_rounds):
        if not len(todo):
            break
        r = rows[todo]
        c = cand[r]
        col = gumbel_pick(rng, log_w[r], valid[r] & (vac[c] > 0))
        has = col >= 0
        prop = todo[has]
        if not len(prop):
            break
        carer = c[np.flatnonzero(has), col[has]]
        shuffle = rng.permutation(len(prop))
        prop, carer = prop[shuffle], carer[shuffle]
        by_carer = np.argsort(carer, kind="stable")
        cs = carer[by_carer]
        pos = np.arange(len(cs))
        first = np.r_[True, cs[1:] != cs[:-1]]
        rank = pos - np.maximum.accumulate(np.where(first, pos, 0))
        accepted = by_carer[rank < vac[cs]]
        out[prop[accepted]] = carer[accepted]
        np.subtract.at(vac, carer[accepted], 1)
        rejected = np.ones(len(prop), bool)
        rejected[accepted] = False
        todo = prop[rejected]
    return out
