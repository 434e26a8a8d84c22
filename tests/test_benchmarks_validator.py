"""Case 2's validator baseline: the distance comparison and the skip when it cannot install.

The validator's own virtual environment is made by ``make bench`` only (it downloads
``csc-validator-be-903``); here the comparison runs on small files and the install is made to
fail, which must give a reason, not an exception.
"""

from __future__ import annotations

from benchmarks import validator


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_compare_matches_children_on_postcodes_ignoring_case_and_spaces(tmp_path):
    ours = _write(
        tmp_path / "placements.csv",
        "CHILD,HOME_POST,PL_POST,distance_miles\n"
        "1,ME1 1AA,ME2 2BB,3.4\n"
        "2,CT1 1AA,TN1 1AA,20.0\n"
        "3,ZZ1 1ZZ,ME2 2BB,\n",
    )
    theirs = _write(
        tmp_path / "distances.csv",
        "CHILD,HOME_POST,PL_POST,PL_DISTANCE\n"
        "1,ME11AA,me2 2bb,3.4\n"
        "1,ME11AA,ME9 9ZZ,7.0\n"  # an earlier episode: another placement
        "2,CT1 1AA,TN1 1AA,20.0\n"
        "3,ZZ1 1ZZ,ME2 2BB,\n",
    )
    agree = validator.compare(ours, theirs)
    assert (agree.compared, agree.differ, agree.missing, agree.validator_only) == (2, 0, 0, 0)
    assert agree.ok

    _write(
        theirs,
        "CHILD,HOME_POST,PL_POST,PL_DISTANCE\n1,ME1 1AA,ME2 2BB,3.5\n3,ZZ1 1ZZ,ME2 2BB,12.0\n",
    )
    agree = validator.compare(ours, theirs)
    assert (agree.compared, agree.differ, agree.missing, agree.validator_only) == (2, 1, 1, 1)
    assert not agree.ok


def test_an_environment_that_cannot_be_made_gives_a_reason(tmp_path):
    env = validator.ensure_venv(tmp_path / "venv", base_python=str(tmp_path / "no-python"))
    assert env.python is None
    assert "could not install" in env.reason
    assert not (tmp_path / "venv").exists() and not (tmp_path / "venv.partial").exists()
