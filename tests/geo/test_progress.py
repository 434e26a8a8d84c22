"""The library reports where long work is through ``progress`` (never printing), and a callback
that raises stops the work (how the CLI's Ctrl-C and a cancelled job get out)."""

from __future__ import annotations

import pytest

from geo.coverage import HouseholdKind, build_coverage, candidate_sites, recommend_sites
from geo.demo import demo_dataset
from geo.measures import analyse
from geo.progress import Stage, report
from geo.spatial import load_authority
from geo.ssda903 import read_carers, read_placements

CHILDREN = [
    "CHILD,HOME_POST,PL_POST,DOB,DISABLED,PLACE",
    "C1,ME14 1XQ,ME14 1XQ,01/01/2008,0,U1",
    "C2,ME15 8DE,TN1 1RS,01/01/2006,0,U1",
    "C3,ME14 1XQ,CT1 2RX,01/01/2004,0,U4",
    "C4,CT1 2RX,CT1 2RX,01/01/2010,0,U1",
    "C5,CT20 2QY,CT1 2RX,01/01/2015,0,U1",
]
CARERS = [
    "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES",
    "M1,ME14 1XQ,approved,2,1,in_house,0-4;5-10;11-15;16+",
    "K1,CT1 2RX,approved,1,1,in_house,0-4",
]


class Recorder:
    def __init__(self) -> None:
        self.stages: list[Stage] = []

    def __call__(self, stage: Stage) -> None:
        self.stages.append(stage)

    def names(self) -> list[str]:
        return list(dict.fromkeys(s.name for s in self.stages))

    def of(self, name: str) -> list[Stage]:
        return [s for s in self.stages if s.name == name]


def test_report_without_a_callback_does_nothing():
    report(None, "anything", 1, 2)  # no callback, no error, no output


def test_reading_analysing_coverage_and_recruitment_report_their_stages(write_csv, capsys):
    kent = load_authority("E10000016")
    rec = Recorder()
    data = read_placements(write_csv("children.csv", CHILDREN), authority=kent, progress=rec)
    analysis = analyse(data, kent, as_at=None, progress=rec)
    register = read_carers(write_csv("carers.csv", CARERS), as_at=analysis.as_at)
    coverage = build_coverage(analysis, register, progress=rec)
    sites = candidate_sites(kent)
    recommend_sites(coverage.model, sites, households=2, kind=HouseholdKind(), progress=rec)
    assert rec.names() == [
        "reading 1 file",
        "checking 5 rows in 1 tables",
        "taking the census of 5 episodes",
        "looking up 10 postcodes",
        "reconciling 5 rows",
        "listing pairs within 20 miles",
        "matching 5 children to 2 households",
        f"choosing sites for 2 households among {len(sites):,} sectors",
    ]
    # Letters M, T, C: a report per letter, counted up to the total.
    assert [(s.done, s.total) for s in rec.of("looking up 10 postcodes")] == [
        (0, 3),
        (1, 3),
        (2, 3),
    ]
    pairs = rec.of("listing pairs within 20 miles")
    assert pairs[0].done == 0 and pairs[-1].done == pairs[-1].total == 5
    assert all(a.done <= b.done for a, b in zip(pairs, pairs[1:], strict=False))
    assert capsys.readouterr() == ("", "")  # the library never prints


def test_demo_generation_reports_its_steps():
    rec = Recorder()
    demo_dataset(scale="kent", progress=rec)
    steps = rec.of("generating the kent demo")
    assert [s.done for s in steps] == list(range(7)) and steps[-1].total == 6


def test_a_callback_that_raises_stops_the_work(write_csv):
    class Stop(Exception):
        pass

    def stop_at_lookup(stage: Stage) -> None:
        if stage.name.startswith("looking up"):
            raise Stop

    kent = load_authority("E10000016")
    data = read_placements(write_csv("children.csv", CHILDREN), authority=kent)
    with pytest.raises(Stop):
        analyse(data, kent, progress=stop_at_lookup)
