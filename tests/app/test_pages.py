"""Page callbacks called directly (inside the Flask app context), on the synthetic Kent demo."""

from __future__ import annotations

import pytest

from app.coverage_view import result_with_edits
from app.data.state import store
from app.main import create_app
from app.settings import Settings

pytestmark = pytest.mark.xdist_group("app-demo")


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    # a users file of our own (absent: local single-user mode), never the developer's real one
    return create_app(
        Settings(
            cache_dir=app_cache_dir,
            upload_dir=state / "uploads",
            extra={"users_file": str(state / "users.json"), "local_token": "pages-token"},
        )
    )


@pytest.fixture
def ctx(app):
    with app.server.test_request_context("/?token=pages-token"):
        app.server.preprocess_request()  # sign-in hooks: the local analyst (the printed link)
        yield app


def test_overview_filters_change_figures_and_match_analyse(ctx):
    from app.pages.overview import update_overview

    fig, kpis, table, alert, status = update_overview(
        None, 20, "home", "all", "all", "all", "all", None
    )
    assert alert is None and "within 20 miles" in status
    kent = [
        loc
        for t in fig.data
        if t.type == "choropleth" and "target" in (t.name or "").lower()
        for loc in t.locations
    ]
    assert (
        len(kent)
        + sum(len(t.locations) for t in fig.data if (t.name or "").startswith("No children"))
        == 12
    )
    a = store().analysis(None)
    assert str(a.summary["headline"]["pct_within_20"]) in str(kpis[0].children)
    fig10, kpis10, *_ = update_overview(None, 10, "home", "disabled", "all", "all", "all", None)
    assert str(kpis10[0].children) != str(kpis[0].children)


def test_overview_never_shows_small_numbers(ctx):
    from app.pages.overview import update_overview

    # a narrow filter leaves districts with 1-5 children: they are shown as c, not counts
    _fig, _kpis, table, _alert, _status = update_overview(
        None, 20, "home", "disabled", "0-4", "residential", "all", None
    )
    body = next(c for c in table.children.children if type(c).__name__ == "Tbody")
    cells = [str(td.children) for tr in body.children for td in tr.children]
    assert not any(c in {"1", "2", "3", "4", "5"} for c in cells)


def test_comparison_table_sorts_and_reports_download(ctx):
    from app.data.store import Filters
    from app.pages.comparison import district_table, update_table
    from app.views import comparison_table

    t = comparison_table(store(), None, Filters())
    sorted_table = district_table(t, 80.0, {"col": "pct_within_20_text", "asc": False})
    first = sorted_table.children[1].children[0].children[0].children
    best = t[t["district_code"].str.startswith("E07")].sort_values("pct_within_20").iloc[-1]
    assert first == best["district_name"]
    assert update_table(None, {}) is not None


def test_report_download_bytes(ctx):
    from app.reports.view import render_report

    data, name = render_report(store(), None, fmt="xlsx")
    assert data[:2] == b"PK" and name.endswith(".xlsx")


def test_what_if_add_then_remove_restores_the_figures(ctx):
    from app.coverage_view import Edit

    base = result_with_edits(store(), None)
    grid = base.areas[base.areas["area_type"].str.startswith("grid")]
    cell = grid.sort_values("children_at_risk", ascending=False).iloc[0]["area_id"]
    cats = "0-4;5-10;11-15;16+;disability;siblings"
    added = result_with_edits(store(), None, (Edit("add", cell, 4, cats),))
    assert added.gap < base.gap
    back = result_with_edits(store(), None, (Edit("add", cell, 4, cats), Edit("remove", cell)))
    assert back.gap == base.gap
    assert back.district["gap"].tolist() == base.district["gap"].tolist()
    # the shared model is left as it was
    assert result_with_edits(store(), None).gap == base.gap


def test_recruitment_callback_and_click_recording(ctx):
    from app.pages.recruitment import apply_click, update_recruitment

    fig, suggestions, districts, alert, *_ = update_recruitment(None, None, [], 3, 2, None)
    assert alert is None and suggestions is not None and districts is not None
    edits = apply_click({"points": [{"location": "575000_155000"}]}, [], "add", 2, None)
    assert edits == [
        {"action": "add", "cell": "575000_155000", "places": 2, "categories": "0-4;5-10;11-15;16+"}
    ]
    # a click on a district outline (not a grid cell) records nothing
    from dash import no_update

    assert apply_click({"points": [{"location": "E07000110"}]}, [], "add", 2, None) is no_update


def test_recruitment_panel_compares_the_plan_with_naive_siting(ctx):
    """On the demo, West and North Kent are short of disability places: the panel says what
    random sectors and the district most children come from (Thanet) would bring instead."""
    from app.pages.recruitment import update_recruitment

    cats = ["0-4", "5-10", "11-15", "16+", "disability"]
    _, suggestions, _, alert, *_ = update_recruitment(None, None, [], 5, 2, cats)
    text = str(suggestions)
    assert alert is None
    assert "10 more children could be placed within 20 miles" in text
    assert "random sectors would bring 6.4 on average (20 draws)" in text
    assert "in Thanet, where most children come from, 0." in text


def test_unusable_configured_data_shows_the_cli_message(tmp_path):
    """The app shows the same one-paragraph message the CLI prints (exit 2), not a traceback."""
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "episodes.csv").write_text("CHILD,DECOM\n1,01/01/2018\n")
    app = create_app(
        Settings(
            data_dir=bad,
            cache_dir=tmp_path / "cache",
            extra={"users_file": str(tmp_path / "users.json")},
        )
    )
    from app.cli import main
    from app.pages.overview import update_overview
    from app.shell_callbacks import dataset_banner, ensure_dataset

    with app.server.test_request_context("/"):
        assert ensure_dataset("/", None) is None
        _fig, _kpis, _table, alert, _status = update_overview(
            None, 20, "home", "all", "all", "all", "all", None
        )
        banner = dataset_banner(None)
    message = "missing required column(s) ['HOME_POST', 'PL_POST']"
    assert message in str(alert.children) and message in str(banner.children)
    assert (
        main(["analyse", "--placements", str(bad / "episodes.csv"), "--out", str(tmp_path / "out")])
        == 2
    )


def test_delete_the_uploaded_data_in_use(ctx):
    from app.data.store import load_dataset
    from app.data.uploads import store_upload, upload_root
    from app.pages.data import delete_current

    s = store()
    episodes = (
        b"CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,"
        b"HOME_POST,PL_POST,URN\nA,01/01/2018,S,C2,N1,U1,PR1,,,,ME14 1XQ,CT1 2RX,\n"
    )
    stored = store_upload(
        upload_root(s.settings), [("episodes.csv", episodes)], uploaded_by="local"
    )
    s.add(load_dataset(stored.files, label="test", synthetic=False, dataset_id=stored.dataset_id))
    assert stored.folder.exists()
    new_id, alert = delete_current(1, stored.dataset_id)
    assert new_id == s.default_id() and "deleted" in str(alert.children)
    assert not stored.folder.exists()
    # the demo is not an upload: nothing is deleted
    _, alert = delete_current(1, s.default_id())
    assert "nothing to delete" in str(alert.children)
    # drawing the page (no click) says nothing
    from dash import no_update

    assert delete_current(None, s.default_id()) == (no_update, no_update)


def test_coverage_gap_is_suppressed_in_the_comparison_table(ctx):
    """The gap counts children: districts with a gap of 1-5 show c (the demo's five short
    districts have 1-4 each), the Kent total of 12 is shown, and sorting by it cannot rank the
    hidden cells."""
    from app.data.store import Filters
    from app.pages.comparison import update_table
    from app.views import comparison_table

    t = comparison_table(store(), None, Filters()).set_index("district_code")
    assert t.loc["E07000111", "gap_shown"] == "c"  # Sevenoaks' gap of 4
    total = t.loc["E10000016", "gap_shown"]
    assert total != "c" and abs(int(total) - 12) <= 2  # the cell-key method: within 2
    assert t["gap_sort"].isna().sum() == (t["gap_shown"] == "c").sum() >= 5
    html = str(update_table(None, {"col": "gap_shown", "asc": False}))
    assert "'c'" in html and f"'{total}'" in html


def test_what_if_gaps_are_exact_for_analysts_and_suppressed_otherwise(ctx):
    from app.pages.recruitment import _district_change

    base = result_with_edits(store(), None).district
    exact = str(_district_change(base, base, 0, exact=True))
    hidden = str(_district_change(base, base, 0, exact=False))
    assert "'4'" in exact and "'c'" not in exact  # Sevenoaks' gap of 4
    assert "'4'" not in hidden and "'c'" in hidden and "'12'" in hidden


def test_small_authority_totals_are_c_for_users_without_unsuppressed_access(app):
    """Outside a signed-in analyst's request the gaps before and after a plan are shown by the
    cell-key method (a gap of 1-5 is c, others within 2) and the gain is not shown: exact gains
    beside protected gaps would let several runs pin the gaps down (issue 23)."""
    from types import SimpleNamespace

    from app.components import fmt_children
    from app.pages.recruitment import _gap_words

    def plan(before: int, after: int) -> SimpleNamespace:
        kind = SimpleNamespace(places=1, categories=0)
        return SimpleNamespace(
            gap_before=before, gap_after=after, total_gain=before - after, households=1, kind=kind
        )

    with app.server.app_context():  # no request: nobody signed in, so no exact access
        assert _gap_words(plan(4, 0)).startswith("c → ")
        words = _gap_words(plan(12, 2))
        before, after = words.split(" children")[0].split(" → ")
        assert abs(int(before) - 12) <= 2 and after == "c" and ":" not in words
    assert fmt_children(3, exact=True) == "3" and fmt_children(3, exact=False) == "c"
    assert fmt_children(0, exact=False) == "0" and fmt_children(1604, exact=False) == "1,604"


def test_recruitment_gains_hidden_when_they_would_reveal_a_small_gap(app):
    """Without unsuppressed access, a plan leaving a gap of 1-5 (12 → 2 on the demo) shows its
    gains, running totals and the comparison as c / not at all: gap before = after + gain."""
    from app.coverage_view import recruitment_baselines, recruitment_plan
    from app.pages.recruitment import _suggestions

    with app.server.app_context():  # no request: nobody signed in, so no exact access
        s = store()
        plan = recruitment_plan(
            s, None, households=5, places=2, categories="0-4;5-10;11-15;16+;disability"
        )
        assert (plan.gap_before, plan.gap_after) == (12, 2)
        text = str(_suggestions(plan, recruitment_baselines(s, None, plan)))
    assert "→ c children" in text and "c more" not in text  # the gap after, protected
    assert "+2" not in text and "random sectors" not in text


def test_a_change_of_measure_sends_colours_not_the_map(ctx):
    """Issue 21: once the browser holds this dataset's coverage map, a change of measure sends a
    Patch of the squares' colours, colour bar and title (no cells, hover, lines or table), and
    the patched figure equals the one built whole for that measure."""
    import json

    import plotly.io as pio
    from dash import Patch, no_update

    from app.pages.coverage import update_coverage

    first = update_coverage(None, "children_at_risk", None)
    fig, kpis, _cohorts, _areas, alert, table, _status, key = first
    assert alert is None and key and table is not None
    assert isinstance(fig.data[0].geojson, str) and fig.data[0].geojson.startswith("/_placemap/")
    for measure in ("carers", "places_per_child_2sfca", "children"):
        patch, kpis2, *_rest, table2, status, key2 = update_coverage(None, measure, key)
        assert isinstance(patch, Patch) and key2 == key
        assert kpis2 is no_update and table2 is no_update and "5 km squares" in status
        sent = json.dumps(patch.to_plotly_json(), default=str)
        assert len(sent) < 10_000, len(sent)  # colours and numbers: no polygons, no hover
        whole = update_coverage(None, measure, None)[0]
        # the patched trace and title equal the whole figure's
        after = pio.from_json(fig.to_json()).to_plotly_json()
        for op in patch.to_plotly_json()["operations"]:
            target = after
            *path, last = op["location"]
            for step in path:
                target = target[step]
            target[last] = op["params"]["value"]
        want = whole.to_plotly_json()
        for prop in ("z", "colorscale", "colorbar", "name"):
            got, exp = after["data"][1].get(prop), want["data"][1].get(prop)
            assert json.dumps(got, default=str) == json.dumps(exp, default=str), (measure, prop)
        assert after["layout"]["title"]["text"] == want["layout"]["title"]["text"]
        assert list(whole.data[1].locations) == list(fig.data[1].locations)  # same cells


def test_map_geometry_is_served_once_behind_sign_in(app):
    """The maps' shapes come from /_placemap/geo/ (issue 21): only after sign-in; districts
    cacheable for a year under a digest, gzip when asked; the grid URL gives back exactly its
    cells and is never stored."""
    import gzip
    import json

    from app.coverage_view import grid_geojson
    from app.map_assets import MAX_URL, districts_url, grid_url

    with app.server.app_context():
        url = districts_url(store())
        features = store().browser_geojson["features"]
    cells = ["615000_145000", "620000_145000", "495000_230000", "-5000_0"]
    grid = grid_url(cells, 5000)
    assert grid is not None and len(grid) <= MAX_URL
    client = app.server.test_client()
    assert client.get(url).status_code == 401  # nothing before sign-in
    client.get("/?token=pages-token", headers={"Accept": "text/html"})
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers["Content-Encoding"] == "gzip"
    assert "immutable" in r.headers["Cache-Control"]
    got = json.loads(gzip.decompress(r.get_data()))
    assert [f["id"] for f in got["features"]] == [f["id"] for f in features]
    stale = client.get(url.split("?")[0] + "?v=old")
    assert stale.status_code == 200 and "no-cache" in stale.headers["Cache-Control"]
    r = client.get(grid)
    assert r.headers["Cache-Control"] == "no-store"  # derived from the children's homes
    squares = json.loads(r.get_data())
    assert sorted(f["id"] for f in squares["features"]) == sorted(cells)
    want = {f["id"]: f["geometry"] for f in grid_geojson(cells, 5000.0)["features"]}
    assert {f["id"]: f["geometry"] for f in squares["features"]} == want  # 5 decimals already
    assert client.get(grid.replace("/grid/5000/", "/grid/7000/")).status_code == 404
    assert client.get(grid.rsplit("/", 1)[0] + "/AAAA.json").status_code == 404
    # cells spread too far for a URL: None (the figure then carries them inline)
    far = [f"{e * 5000}_{n}" for e in range(0, 4000, 7) for n in (0, 9_995_000)]
    assert grid_url(far, 5000) is None
