"""The demand forecast: hand-computed rates on a few children, a known process recovered with
its interval's coverage, conservation and ageing, the backtest and recruitment targets on the
Kent demo."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from geo.errors import InputError
from geo.measures.forecast import (
    EXIT,
    KINDS,
    N_KINDS,
    N_STATES,
    StateHistory,
    estimate_rates,
    forecast,
    project,
    state_history,
)
from geo.measures.forecast_backtest import METHODS, backtest
from geo.spatial import load_authority
from geo.spatial.authority import OUTSIDE
from geo.ssda903 import read_placements

AS_AT = date(2018, 12, 31)
IH, IFA, RES = KINDS.index("in_house_foster"), KINDS.index("ifa_foster"), KINDS.index("residential")


def s(band: int, kind: int) -> int:
    return band * N_KINDS + kind


@pytest.fixture(scope="module")
def kent():
    return load_authority("E10000016")


def _episodes(tmp_path: Path, rows: list[str], header: list[str]) -> list[Path]:
    ep = tmp_path / "episodes.csv"
    ep.write_text(
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,"
        "PL_POST,URN\n" + "\n".join(rows) + "\n"
    )
    hd = tmp_path / "header.csv"
    hd.write_text("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n" + "\n".join(header) + "\n")
    return [ep, hd]


@pytest.fixture(scope="module")
def few(tmp_path_factory, kent):
    """Four children with known histories (Maidstone ME14 1XQ, Canterbury CT1 2RX).

    A (born 2008, band 5-10): in-house foster, residential from 01/05/2017, leaves 15/11/2017.
    B (born 01/02/2013): IFA foster throughout; turns 5 on 01/02/2018 (0-4 -> 5-10).
    C (born 2005, band 11-15): enters in-house foster care on 10/02/2018.
    D: left on 15/12/2016, so the history starts on 14/12/2016.
    """
    tmp = tmp_path_factory.mktemp("few")
    rows = [
        "A,01/01/2016,S,C2,N1,U1,PR1,01/05/2017,X1,,ME14 1XQ,ME14 1XQ,",
        "A,01/05/2017,P,C2,N1,K2,PR4,15/11/2017,E8,,ME14 1XQ,ME14 1XQ,",
        "B,01/10/2016,S,C2,N1,U4,PR4,,,,CT1 2RX,CT1 2RX,",
        "C,10/02/2018,S,C2,N1,U1,PR1,,,,ME14 1XQ,ME14 1XQ,",
        "D,01/01/2016,S,C2,N1,U1,PR1,15/12/2016,E8,,ME14 1XQ,ME14 1XQ,",
    ]
    header = [
        "A,1,01/06/2008,WBRI,,,",
        "B,1,01/02/2013,WBRI,,,",
        "C,2,01/01/2005,WBRI,,,",
        "D,2,01/01/2005,WBRI,,,",
    ]
    data = read_placements(_episodes(tmp, rows, header), authority=kent)
    return state_history(data, kent, as_at=AS_AT)


def test_rates_counted_by_hand(few):
    assert few.history_start == date(2016, 12, 14)
    assert len(few.dates) == 9 and few.dates[0] == date(2016, 12, 31)
    mai, can = few.areas.index("E07000110"), few.areas.index("E07000106")
    r = estimate_rates(few, reference_years=3)
    assert r.quarters == 8
    t = r.transitions
    # A: in-house at 31/12/16 and 31/03/17, residential at 30/06 and 30/09, gone by 31/12/17.
    assert t[mai, s(1, IH), s(1, IH)] == 1
    assert t[mai, s(1, IH), s(1, RES)] == 1
    assert t[mai, s(1, RES), s(1, RES)] == 1
    assert t[mai, s(1, RES), EXIT] == 1
    # B: 0-4 IFA at five censuses (4 stays), 5-10 from 31/03/18 (ageing once, then 3 stays).
    assert t[can, s(0, IFA), s(0, IFA)] == 4
    assert t[can, s(0, IFA), s(1, IFA)] == 1
    assert t[can, s(1, IFA), s(1, IFA)] == 3
    # C: one entry, then 3 stays; nothing else.
    assert r.entries.sum() == 1 and r.entries[mai, s(2, IH)] == 1
    assert t[mai, s(2, IH), s(2, IH)] == 3
    assert t.sum() == 4 + 8 + 3
    # Pooled shares: of the 5 quarters B spent at 0-4, 1 aged out; shrunk district shares with
    # 10 pseudo-children equal the pooled ones when the district is the only one in the state.
    assert r.pooled[s(0, IFA), s(1, IFA)] == pytest.approx(1 / 5)
    assert r.probabilities[can, s(0, IFA), s(1, IFA)] == pytest.approx((1 + 10 / 5) / (5 + 10))
    assert r.pooled[s(1, RES), EXIT] == pytest.approx(1 / 2)
    # Entry rate: 1 entry over 8 quarters; the stock now: B (5-10 IFA) and C (11-15 in-house).
    stock = few.stock(len(few.dates) - 1)
    assert stock.sum() == 2 and stock[can, s(1, IFA)] == 1 and stock[mai, s(2, IH)] == 1


def test_reference_window_limits_the_counts(few):
    r = estimate_rates(few, reference_years=1)
    assert r.quarters == 4 and r.window == (date(2017, 12, 31), AS_AT)
    assert r.transitions[..., EXIT].sum() == 0  # A left before the window
    assert r.entries.sum() == 1


def test_history_too_short_or_a_snapshot_is_refused(tmp_path, kent):
    rows = ["A,01/01/2018,S,C2,N1,U1,PR1,,,,ME14 1XQ,ME14 1XQ,"]
    data = read_placements(_episodes(tmp_path, rows, ["A,1,01/06/2008,WBRI,,,"]), authority=kent)
    with pytest.raises(InputError, match="one-day snapshot"):
        state_history(data, kent, as_at=AS_AT)
    rows.append("B,01/01/2018,S,C2,N1,U1,PR1,01/06/2018,E8,,ME14 1XQ,ME14 1XQ,")
    data = read_placements(
        _episodes(tmp_path, rows, ["A,1,01/06/2008,WBRI,,,", "B,1,01/06/2008,WBRI,,,"]),
        authority=kent,
    )
    with pytest.raises(InputError, match="under a year"):
        state_history(data, kent, as_at=AS_AT)


def _known_history(kent, rng, *, quarters: int, entries: float, exit_p: float, start: int):
    """One district, one state: Poisson entries, each child leaves with ``exit_p`` a quarter."""
    alive = start
    ids: list[list[int]] = []
    next_id = start
    current = list(range(start))
    for _ in range(quarters + 1):
        ids.append(current)
        stay = [c for c in current if rng.random() >= exit_p]
        new = int(rng.poisson(entries))
        current = stay + list(range(next_id, next_id + new))
        next_id += new
    alive = next_id
    state = np.full((alive, quarters + 1), -1)
    for t, members in enumerate(ids):
        state[members, t] = s(2, IH)
    area = np.where(state >= 0, 0, -1)
    dates = tuple(date(2010 + (t // 4), 3 * (t % 4) + 1, 1) for t in range(quarters + 1))
    return StateHistory(
        authority=kent,
        dates=dates,
        areas=("E07000110", OUTSIDE),
        state=state,
        area=area,
        history_start=dates[0],
    )


def test_known_process_recovered_and_interval_covers(kent):
    """Entries 20 a quarter, 10 % leave a quarter (steady state 200): 12 quarters of history
    recover both within 15 %, and over 40 histories the 80 % interval of the stock 4 quarters on
    covers the truth 65-95 % of the time."""
    rng = np.random.default_rng(7)
    covered = 0
    for rep in range(40):
        h = _known_history(kent, rng, quarters=16, entries=20, exit_p=0.1, start=200)
        past = h.until(12)
        r = estimate_rates(past, reference_years=3)
        if rep == 0:
            assert r.entries.sum() / r.quarters == pytest.approx(20, rel=0.15)
            assert r.pooled[s(2, IH), EXIT] == pytest.approx(0.1, rel=0.15)
        p = project(past.stock(12), r, start=past.dates[-1], quarters=4, draws=300, seed=rep)
        sims = p.draws[:, -1].sum(axis=(1, 2))
        lo, hi = np.quantile(sims, [0.1, 0.9])
        covered += lo <= h.stock(16).sum() <= hi
    assert 26 <= covered <= 38


@pytest.fixture(scope="module")
def demo(tmp_path_factory, kent):
    from geo.demo import demo_dataset, write_demo

    out = tmp_path_factory.mktemp("demo")
    d = demo_dataset()
    write_demo(out, d)
    data = read_placements(out, authority=kent)
    return out, data, forecast(data, kent, as_at=d.as_at, years=2, draws=300)


def test_projection_conserves_children(demo):
    _, _, fc = demo
    p = fc.projection
    for q in range(len(p.dates) - 1):
        before, after = p.expected[q].sum(), p.expected[q + 1].sum()
        assert after == pytest.approx(before + p.entries[q].sum() - p.exits[q].sum())
    # The district rows add up to the authority total in every quarter.
    t = fc.districts
    total = t[t["district_code"] == "E10000016"].set_index("quarter_end")["children"]
    parts = t[t["district_code"] != "E10000016"].groupby("quarter_end")["children"].sum()
    assert np.allclose(total, parts.reindex(total.index), atol=0.1 * len(fc.history.areas))
    assert (t["lower_80"] <= t["children"] + 1).all() and (t["children"] <= t["upper_80"] + 1).all()


def test_ageing_moves_children_across_bands(demo):
    _, _, fc = demo
    r = fc.rates
    ageing = sum(
        r.transitions[:, s(b, k), s(b + 1, k)].sum() for b in range(3) for k in range(N_KINDS)
    )
    assert ageing > 50
    # Only 0-4 children now and no entries: some are 5-10 a year on.
    stock = np.zeros((len(fc.history.areas), N_STATES))
    stock[0, s(0, IH)] = 100
    quiet = type(r)(**{**r.__dict__, "entry_factor": np.zeros(N_STATES)})
    p = project(stock, quiet, start=AS_AT, quarters=4, draws=50)
    assert p.expected[4][0, s(1, IH)] > 5
    assert p.expected[4][0, s(0, IH)] < 100


def test_backtest_on_demo_reports_errors(demo):
    _, _, fc = demo
    rows, summary = backtest(fc.history, draws=300)
    one = summary["1_year"]
    assert one["forecast_from"] == "2017-12-31"
    for method in ("model", "persistence", "trend"):
        assert one[method]["district_mean_absolute_error"] >= 0
    # Six years of history: both lags run with a full 3-year reference window, and the model is
    # no worse than carrying the census forward (the demo's history is one stated process).
    for key in ("1_year", "2_year"):
        assert summary[key]["reference_quarters"] == 12
        err = {m: summary[key][m]["district_mean_absolute_error"] for m in METHODS}
        assert err["model"] <= 1.1 * err["persistence"], (key, err)
        assert err["model"] <= err["trend"], (key, err)
    assert summary["2_year"]["forecast_from"] == "2016-12-31"
    total = rows[rows["district_code"] == "E10000016"].iloc[0]
    assert total["actual"] == fc.history.stock(len(fc.history.dates) - 1).sum()
    assert total["error"] == pytest.approx(total["forecast"] - total["actual"], abs=0.1)


def test_recruitment_targets_from_the_demo(demo, kent):
    from geo.coverage import build_coverage
    from geo.coverage.targets import recruitment_targets
    from geo.measures import analyse
    from geo.ssda903 import read_carers

    out, data, fc = demo
    analysis = analyse(data, kent, as_at=fc.as_at)
    register = read_carers(out / "carers.csv", as_at=fc.as_at)
    district = build_coverage(analysis, register).model.result().district
    t = recruitment_targets(fc, district, register.carers, attrition=0.1, years=(1, 2))
    rows = t[t["district_code"] != "E10000016"]
    expect_net = np.ceil(np.maximum(rows["growth"] + rows["coverage_gap_share"], 0) - 0.02)
    assert (rows["net_places"] >= expect_net).all()
    assert (rows["gross_places"] >= rows["net_places"]).all()
    losses = rows[rows["years_ahead"] == 1]["approved_places_now"] * 0.1
    assert np.allclose(rows[rows["years_ahead"] == 1]["expected_losses"], losses, atol=0.01)
    totals = t[t["district_code"] == "E10000016"]
    by = rows.groupby(["years_ahead", "placement_kind"])["gross_places"].sum()
    assert list(totals["gross_places"]) == list(by)
    # The gap shares add up to the coverage model's gap.
    one = t[(t["years_ahead"] == 1) & (t["district_code"] != "E10000016")]
    assert one["coverage_gap_share"].sum() == pytest.approx(
        district["gap"].iloc[:-1].sum(), abs=0.1
    )
    none = recruitment_targets(fc, district, register.carers, attrition=0.0, years=(1,))
    assert (none["gross_places"] == none["net_places"]).all()
