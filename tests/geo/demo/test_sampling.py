"""Sampling helpers of the demo generator (geo/demo/sampling.py): exact quotas, weighted draws."""

from __future__ import annotations

import numpy as np

from geo.demo.sampling import age_at, fmt_dates, minus_years, quota, take


def test_quota_adds_up_exactly_by_largest_remainder():
    assert quota({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    assert quota({"a": 2, "b": 0, "c": -1}, 5) == {"a": 5, "b": 0, "c": 0}
    assert quota({"a": 0}, 3) == {"a": 0}


def test_take_is_without_replacement_and_uses_zero_weights_last():
    rng = np.random.default_rng(1)
    w = np.array([0.0, 1.0, 5.0, 0.0, 2.0])
    got = take(rng, w, 3)
    assert sorted(got.tolist()) == [1, 2, 4]
    everything = take(rng, w, 10)
    assert sorted(everything.tolist()) == [0, 1, 2, 3, 4]
    assert set(everything[:3].tolist()) == {1, 2, 4}
    assert len(take(rng, w, 0)) == 0


def test_dates_and_ages():
    days = np.array(["2020-02-29", "2018-12-31", "NaT"], dtype="datetime64[D]")
    assert fmt_dates(days).tolist() == ["29/02/2020", "31/12/2018", ""]
    back = minus_years(days[:2], np.array([1, 18]))
    assert fmt_dates(back).tolist() == ["28/02/2019", "31/12/2000"]
    dob = np.array(["2008-12-31", "2009-01-01"], dtype="datetime64[D]")
    assert age_at(dob, np.datetime64("2018-12-31")).tolist() == [10, 9]
