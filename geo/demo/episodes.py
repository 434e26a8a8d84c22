"""Stage 3: the episode history (``history_years`` before the as-at date), legal status and
category of need; Header and UASC.

Earlier placements, legal-status changes and the last placements of children who left care are
added so quarterly trends exist. Episodes chain: a child's next episode starts the day the
previous one ends; a placement change (P) keeps the legal status, a legal-status-only change
(L) keeps the placement, B changes both.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.demo.carers import Carers
from geo.demo.children import (
    ADOPTION_CODES,
    FOSTER_IFA,
    FOSTER_IN_HOUSE,
    Children,
    far_weights,
    points,
    providers,
)
from geo.demo.pools import FAR_MEAN_EXTRA_MILES, NEAR_MEAN_MILES, Targets, Where, spaced
from geo.demo.sampling import DAY, age_at, categorical, fmt_dates, gumbel_pick, minus_years
from geo.demo.synthetic import DemoGenerator
from geo.ssda903 import RESIDENTIAL_PLACES

_ETHNIC = {
    "WBRI": 78.0,
    "WOTH": 4.0,
    "WIRI": 0.3,
    "WROM": 0.7,
    "MWBC": 3.0,
    "MWBA": 1.0,
    "MWAS": 1.0,
    "MOTH": 3.0,
    "AIND": 0.5,
    "APKN": 0.3,
    "ABAN": 0.2,
    "AOTH": 0.5,
    "BCRB": 0.5,
    "BAFR": 1.5,
    "BOTH": 0.3,
    "CHNE": 0.1,
    "OOTH": 1.0,
    "REFU": 2.0,
    "NOBT": 1.8,
}
_ETHNIC_UASC = {"BAFR": 40.0, "AOTH": 25.0, "WOTH": 15.0, "OOTH": 12.0, "MOTH": 8.0}
_PLACE_CHANGE_REASONS = {
    "CARPL": 38,
    "CLOSE": 6,
    "ALLEG": 3,
    "STAND": 10,
    "APPRR": 5,
    "CREQB": 7,
    "CREQO": 6,
    "CHILD": 6,
    "LAREQ": 5,
    "PLACE": 5,
    "OTHER": 9,
}
_UPN_LETTERS = "ABCDEFGHJKLMNPQRTUVWXYZ"


# -- episodes ------------------------------------------------------------------------------
def episodes(
    gen: DemoGenerator,
    carers: Carers,
    c: Children,
    cur_kind: np.ndarray,
    cur_place: np.ndarray,
    cur_provider: np.ndarray,
    cur_where: Where,
) -> tuple[pd.DataFrame, np.ndarray]:
    """The Episodes table (text values, dates dd/mm/yyyy, sorted by child and start) and the
    CHILD identifier of each child of ``c``. The current episode of each child in care is the
    one allocated and placed by :mod:`geo.demo.children`; earlier ones are drawn here (stream
    ``rng_history``; identifiers from ``rng_text``)."""
    rng = gen.rng_history
    h = gen.recipe["history"]
    r_n = len(c.uasc)
    is_current = np.arange(r_n) < c.n_current
    end = np.where(is_current, gen.as_at, c.care_end)
    lo = np.maximum(c.care_start, gen.window_start)
    span = np.maximum((end - lo).astype(int), 0)
    n_changes = rng.poisson(float(h["changes_per_year"]) * span / 365.25)
    n_changes = np.minimum(np.minimum(n_changes, 8), np.maximum(span - 1, 0))
    n_changes[c.short_break] = 0

    # Change days: distinct, strictly inside (lo, end).
    rec = np.repeat(np.arange(r_n), n_changes)
    day = lo[rec] + (1 + (rng.random(len(rec)) * (span[rec] - 1)).astype(int)) * DAY
    order = np.lexsort((day, rec))
    rec, day = rec[order], day[order]
    keep = np.ones(len(rec), bool)
    keep[1:] = ~((rec[1:] == rec[:-1]) & (day[1:] == day[:-1]))
    rec, day = rec[keep], day[keep]
    n_changes = np.bincount(rec, minlength=r_n)

    pre = rng.exponential(365.0, r_n).astype(int)
    first = np.where(
        c.care_start >= gen.window_start,
        c.care_start,
        np.maximum(c.care_start, gen.window_start - pre * DAY),
    ).astype("datetime64[D]")

    n_ep = n_changes + 1
    e_rec = np.repeat(np.arange(r_n), n_ep)
    starts_at = np.concatenate([[0], np.cumsum(n_ep)[:-1]])
    pos = np.arange(len(e_rec)) - starts_at[e_rec]
    last = pos == n_ep[e_rec] - 1
    decom = np.empty(len(e_rec), dtype="datetime64[D]")
    decom[pos == 0] = first
    decom[pos > 0] = day
    dec = np.empty(len(e_rec), dtype="datetime64[D]")
    dec[~last] = day
    dec[last] = np.where(is_current, np.datetime64("NaT"), c.care_end)

    change = np.full(len(e_rec), "", dtype=object)
    change[pos > 0] = categorical(
        rng,
        {
            "P": 1 - float(h["legal_change_share"]) - 0.05,
            "L": float(h["legal_change_share"]),
            "B": 0.05,
        },
        int((pos > 0).sum()),
    )
    # Placement of each episode: the current one as allocated, a leaver's last by the reason
    # they left, earlier ones by age; a legal-status-only change keeps the placement.
    kind = np.full(len(e_rec), "", dtype=object)
    place = np.full(len(e_rec), "", dtype=object)
    age_start = age_at(c.dob[e_rec], decom)
    hk, hp = _history_types(rng, age_start, c.uasc[e_rec])
    kind[:], place[:] = hk, hp
    cur_last = last & is_current[e_rec]
    kind[cur_last] = cur_kind
    place[cur_last] = cur_place
    leaver_last = last & ~is_current[e_rec]
    lk, lp = _leaving_types(
        rng,
        c.reason[e_rec][leaver_last],
        kind[leaver_last],
        place[leaver_last],
        c.disabled[e_rec][leaver_last],
    )
    kind[leaver_last], place[leaver_last] = lk, lp
    foster_code = np.isin(kind, [FOSTER_IN_HOUSE, FOSTER_IFA]) & (place == "")
    place[foster_code & (kind == FOSTER_IN_HOUSE)] = categorical(
        rng,
        {"U1": 5, "U3": 7, "U4": 38, "U5": 2, "U6": 48},
        int((foster_code & (kind == FOSTER_IN_HOUSE)).sum()),
    )
    place[foster_code & (kind == FOSTER_IFA)] = categorical(
        rng, {"U4": 45, "U6": 55}, int((foster_code & (kind == FOSTER_IFA)).sum())
    )
    provider = providers(rng, kind, place)
    provider[cur_last] = cur_provider

    # Where: far odds drift with time (placements were nearer home in earlier years).
    where = Where.empty(len(e_rec))
    where.put(cur_last, cur_where)
    todo = ~cur_last
    years_before = (gen.as_at - decom).astype(int) / 365.25
    w = far_weights(gen, kind, place, c.disabled[e_rec], c.group_w[e_rec])
    base_far = (100 - float(gen.cfg["pct_within_20_included"])) / 100
    target = np.clip(base_far + float(h["far_pct_drift_per_year"]) / 100 * years_before, 0.02, 0.9)
    scale = np.mean(w[todo & ~c.uasc[e_rec]]) if (todo & ~c.uasc[e_rec]).any() else 1.0
    p_far = np.clip(target * w / scale, 0, 0.95)
    p_far = np.where(c.uasc[e_rec], float(gen.recipe["far_pct_uasc"]) / 100, p_far)
    far = rng.random(len(e_rec)) < p_far
    he, hn = gen.homes.e[c.home[e_rec]], gen.homes.n[c.home[e_rec]]
    for in_house, k in ((True, FOSTER_IN_HOUSE), (False, FOSTER_IFA)):
        m = todo & (kind == k)
        if m.any():
            where.put(m, _history_carers(carers, rng, he[m], hn[m], far[m], in_house=in_house))
    m = todo & ~np.isin(kind, [FOSTER_IN_HOUSE, FOSTER_IFA])
    if m.any():
        where.put(m, points(gen, rng, he[m], hn[m], far[m], place[m]))

    # A legal-status-only change (L) keeps the placement of the next episode: copy backwards.
    ls = _legal_status(rng, kind, place, c, e_rec, age_start)
    # Walk back from each child's last episode: a placement change (P) keeps the legal
    # status, a legal-status-only change (L) keeps the placement, B changes both. One
    # backward pass suffices: position p copies from p + 1, already final.
    for i_pos in range(int(pos.max(initial=0)) - 1, -1, -1):
        rows = np.flatnonzero((pos == i_pos) & ~last)
        src = rows + 1
        nxt_change = change[src]
        same = nxt_change == "L"
        kind[rows[same]] = kind[src[same]]
        place[rows[same]] = place[src[same]]
        provider[rows[same]] = provider[src[same]]
        where.copy_rows(rows[same], src[same])
        keep_ls = nxt_change == "P"
        ls[rows[keep_ls]] = ls[src[keep_ls]]
        ls[rows[~keep_ls]] = _ls_before(rng, ls[src[~keep_ls]])
    ls[c.uasc[e_rec]] = "V2"
    ls[np.isin(place, ADOPTION_CODES)] = "E1"
    ls[(place == "P1") & ~np.isin(ls, ["C1", "C2"])] = "C2"

    rne = np.where(pos == 0, np.where(decom == c.care_start[e_rec], "S", "P"), change)
    rec_code = np.where(last, c.reason[e_rec], "X1").astype(object)
    reason_change = np.full(len(e_rec), "", dtype=object)
    pb = np.isin(rne, ["P", "B"]) & (pos > 0)
    reason_change[pb] = categorical(rng, _PLACE_CHANGE_REASONS, int(pb.sum()))
    cin = _cin(rng, c)[e_rec]
    pl_post = spaced(where.compact)
    home_post = spaced(gen.homes.compact[c.home])[e_rec]
    urn = np.full(len(e_rec), "", dtype=object)
    registered = np.isin(place, sorted(RESIDENTIAL_PLACES))
    urn[registered] = _urns(pl_post[registered])

    child_ids = _child_ids(gen, r_n)
    frame = pd.DataFrame(
        {
            "CHILD": child_ids[e_rec],
            "DECOM": fmt_dates(decom),
            "RNE": rne,
            "LS": ls,
            "CIN": cin,
            "PLACE": place,
            "PLACE_PROVIDER": provider,
            "DEC": fmt_dates(dec),
            "REC": np.where(last & is_current[e_rec], "", rec_code),
            "REASON_PLACE_CHANGE": reason_change,
            "HOME_POST": home_post,
            "PL_POST": pl_post,
            "URN": urn,
            "DISABLED": np.where(c.disabled[e_rec], "1", "0"),
        }
    )
    key_child = child_ids[e_rec].astype(np.int64)
    frame = frame.iloc[np.lexsort((pos, decom.astype(np.int64), key_child))]
    gen.facts["episodes"] = len(frame)
    gen.facts["children_in_history"] = r_n
    return frame.reset_index(drop=True).astype("string"), child_ids


def _child_ids(gen: DemoGenerator, n: int) -> np.ndarray:
    digits = 6 if n < 90_000 else 7
    low = 10 ** (digits - 1)
    ids = gen.rng_text.choice(9 * low, size=n, replace=False) + low
    return ids.astype(str).astype(object)


def _history_types(
    rng: np.random.Generator, age: np.ndarray, uasc: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Kind and PLACE of an earlier episode by the child's age at its start."""
    mixes: dict[str, dict[tuple[str, str], float]] = {
        "young": {
            (FOSTER_IN_HOUSE, ""): 58,
            (FOSTER_IFA, ""): 14,
            ("other", "P1"): 13,
            ("other", "R3"): 3,
            ("other", "Z1"): 2,
        },
        "child": {
            (FOSTER_IN_HOUSE, ""): 60,
            (FOSTER_IFA, ""): 20,
            ("other", "P1"): 10,
            ("residential", "K2"): 5,
            ("other", "Z1"): 2,
        },
        "teen": {
            (FOSTER_IN_HOUSE, ""): 50,
            (FOSTER_IFA, ""): 24,
            ("residential", "K2"): 14,
            ("other", "P1"): 6,
            ("other", "Z1"): 3,
            ("residential", "K1"): 1,
        },
        "older": {
            (FOSTER_IN_HOUSE, ""): 34,
            (FOSTER_IFA, ""): 18,
            ("residential", "K2"): 13,
            ("other", "H5"): 25,
            ("other", "P1"): 4,
            ("other", "P3"): 3,
            ("other", "R5"): 1,
        },
        "uasc": {
            (FOSTER_IN_HOUSE, ""): 40,
            (FOSTER_IFA, ""): 25,
            ("other", "H5"): 30,
            ("residential", "K2"): 5,
        },
    }
    group = np.select(
        [uasc, age >= 16, age >= 10, age >= 5], ["uasc", "older", "teen", "child"], "young"
    )
    kind = np.full(len(age), "", dtype=object)
    place = np.full(len(age), "", dtype=object)
    for g, mix in mixes.items():
        m = group == g
        if not m.any():
            continue
        keys = list(mix)
        pick = categorical(rng, {str(i): mix[k] for i, k in enumerate(keys)}, int(m.sum()))
        chosen = [keys[int(i)] for i in pick]
        kind[m] = [k for k, _ in chosen]
        place[m] = [p for _, p in chosen]
    return kind, place


def _leaving_types(
    rng: np.random.Generator,
    reason: np.ndarray,
    kind: np.ndarray,
    place: np.ndarray,
    disabled: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The last placement of a child who left care, consistent with why they left."""
    kind, place = kind.copy(), place.copy()
    m = reason == "E11"
    kind[m] = "other"
    place[m] = categorical(rng, {"A6": 70, "A5": 30}, int(m.sum()))
    m = reason == "E17"
    kind[m] = np.where(rng.random(int(m.sum())) < 0.75, FOSTER_IN_HOUSE, FOSTER_IFA)
    place[m] = ""
    m = reason == "E5"
    kind[m] = "residential"
    place[m] = categorical(rng, {"K2": 60, "R1": 40}, int(m.sum()))
    m = reason == "E7"
    kind[m] = "other"
    place[m] = "H5"
    m = reason == "E6"
    kind[m] = "other"
    place[m] = "R5"
    return kind, place


def _legal_status(
    rng: np.random.Generator,
    kind: np.ndarray,
    place: np.ndarray,
    c: Children,
    e_rec: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    n = len(kind)
    ls = categorical(rng, {"C2": 72, "V2": 18, "C1": 9, "J2": 1}, n)
    older = age >= 16
    ls[older] = categorical(rng, {"C2": 55, "V2": 40, "C1": 3, "J2": 2}, int(older.sum()))
    p1 = place == "P1"
    ls[p1] = categorical(rng, {"C2": 85, "C1": 15}, int(p1.sum()))
    ls[np.isin(place, ADOPTION_CODES)] = "E1"
    ls[c.uasc[e_rec]] = "V2"
    sb = c.short_break[e_rec]
    ls[sb] = categorical(rng, {"V3": 25, "V4": 75}, int(sb.sum()))
    return ls


def _ls_before(rng: np.random.Generator, ls_next: np.ndarray) -> np.ndarray:
    """A plausible legal status before a change to ``ls_next``."""
    before = {
        "C2": ("C1", "V2"),
        "C1": ("V2", "L2"),
        "E1": ("C2", "C2"),
        "V2": ("C1", "L2"),
        "J2": ("V2", "V2"),
    }
    out = np.asarray(ls_next, dtype=object).copy()
    coin = rng.random(len(out)) < 0.7
    for code, (a, b) in before.items():
        m = out == code
        out[m] = np.where(coin[m], a, b)
    return out


def _cin(rng: np.random.Generator, c: Children) -> np.ndarray:
    """Category of need per child; N2 (disability) only for disabled children."""
    n = len(c.uasc)
    cin = categorical(
        rng, {"N1": 62, "N3": 3, "N4": 10, "N5": 16, "N6": 3, "N7": 0.5, "N8": 5.5}, n
    )
    d = c.disabled
    cin[d] = categorical(rng, {"N2": 35, "N1": 45, "N5": 10, "N4": 10}, int(d.sum()))
    cin[c.short_break] = "N2"
    cin[c.uasc] = "N8"
    return cin


def _history_carers(
    carers: Carers,
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    far: np.ndarray,
    *,
    in_house: bool,
) -> Where:
    """Carers of earlier foster placements (any household ever approved), no capacity check."""
    cr = carers
    which = np.flatnonzero((cr.in_house == in_house) & (cr.status != "in_assessment"))
    ce, cn = cr.e[which], cr.n[which]
    tree = cKDTree(np.column_stack([ce, cn]))
    k = len(he)
    dist = np.where(
        far,
        20.5 + rng.exponential(FAR_MEAN_EXTRA_MILES, k),
        np.minimum(rng.exponential(NEAR_MEAN_MILES, k), 18.5),
    )
    t = Targets(rng, he, hn, tree, ce, cn, dist, k=8)
    valid = np.where(far[:, None], t.miles_home > 20.0, t.miles_home <= 20.0)
    col = gumbel_pick(rng, -t.miles_target / 2.0, valid)
    pick = t.idx[np.arange(k), np.maximum(col, 0)]
    # No carer on the right side of 20 miles near the target: the nearest (near) or a
    # random far one.
    miss = col < 0
    if miss.any():
        _, nearest = tree.query(np.column_stack([he[miss], hn[miss]]))
        r = rng.integers(0, len(which), int(miss.sum()))
        pick[miss] = np.where(far[miss], r, nearest)
    return Where.of(cr, which[pick])


# -- header and UASC files -----------------------------------------------------------------
def header_table(gen: DemoGenerator, c: Children, child_ids: np.ndarray) -> pd.DataFrame:
    """The Header table: one row per child of ``c`` (sorted by CHILD; stream ``rng_text``)."""
    rng = gen.rng_text
    n = len(c.uasc)
    ethnic = categorical(rng, _ETHNIC, n)
    ethnic[c.uasc] = categorical(rng, _ETHNIC_UASC, int(c.uasc.sum()))
    age = age_at(c.dob, np.where(np.isnat(c.care_end), gen.as_at, c.care_end))
    mother = ~c.male & (age >= 14) & (rng.random(n) < 0.03)
    mc_dob = gen.as_at - rng.integers(10, 700, n) * DAY
    mc_dob = np.where(mother, mc_dob, np.datetime64("NaT"))
    frame = pd.DataFrame(
        {
            "CHILD": child_ids,
            "SEX": np.where(c.male, "1", "2"),
            "DOB": fmt_dates(c.dob),
            "ETHNIC": ethnic,
            "UPN": _upns(rng, n, gen.recipe.get("dfe_la_code", "886")),
            "MOTHER": np.where(c.male, "", np.where(mother, "1", "0")),
            "MC_DOB": fmt_dates(mc_dob),
        }
    )
    order = np.argsort(child_ids.astype(np.int64), kind="stable")
    return frame.iloc[order].reset_index(drop=True).astype("string")


def uasc_table(c: Children, child_ids: np.ndarray) -> pd.DataFrame:
    """The UASC table: one row per unaccompanied asylum-seeking child (sorted by CHILD)."""
    m = c.uasc
    # A UASC who left care did so at 18, when UASC status ends (DUC = 18th birthday).
    duc = np.where(
        np.isnat(c.care_end), np.datetime64("NaT"), minus_years(c.dob, np.full(len(m), -18))
    )
    frame = pd.DataFrame(
        {
            "CHILD": child_ids[m],
            "SEX": np.where(c.male[m], "1", "2"),
            "DOB": fmt_dates(c.dob[m]),
            "DUC": fmt_dates(duc[m]),
        }
    )
    order = np.argsort(child_ids[m].astype(np.int64), kind="stable")
    return frame.iloc[order].reset_index(drop=True).astype("string")


def _urns(pl_post: np.ndarray) -> np.ndarray:
    """A stable made-up Ofsted URN per placement postcode (``SC`` + 6 digits)."""
    return np.array(
        [f"SC{zlib.crc32(str(p).encode()) % 900_000 + 100_000}" for p in pl_post], dtype=object
    )


def _upns(rng: np.random.Generator, n: int, la_code: str) -> np.ndarray:
    """Unique pupil numbers with a valid DfE check letter (made up, LA ``la_code``)."""
    serial = rng.integers(0, 10**9, n)
    la = [int(ch) for ch in str(la_code)[:3].zfill(3)]
    total = sum(d * w for d, w in zip(la, (2, 3, 4), strict=True)) + np.zeros(n, dtype=np.int64)
    for k in range(9):  # serial digit k (from the left) has weight 5 + k
        total += (serial // 10 ** (8 - k)) % 10 * (5 + k)
    letters = np.array(list(_UPN_LETTERS), dtype=object)[total % 23]
    body = pd.Series(serial).astype(str).str.zfill(9).to_numpy(dtype=object)
    return letters + "".join(str(d) for d in la) + body


# --------------------------------------------------------------------------------------------
# The messy variant
