"""District comparison report: model, disclosure control in every format, safe exports.

The input is generated here: SSDA903 episodes (with history), header and UASC files with real
Kent postcodes sampled with a seeded RNG.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from app.reports import CoverageFigures, build_report, render_report, report_from_data
from app.reports.xlsx import render_csv
from geo.measures.analysis import analyse
from geo.measures.trends import compliance_trend
from geo.spatial import postcodes as pc
from geo.spatial.authority import load_authority
from geo.ssda903 import read_placements
from geo.writing import neutralise_cell as neutralise
from geo.writing import neutralise_formulas as safe_frame
from tests.conftest import shared_path

HEAD = (
    "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,"
    "URN,DISABLED"
)
AS_AT = date(2018, 12, 31)
KINDS = [("U4", "PR1"), ("U1", "PR1"), ("U4", "PR4"), ("K2", "PR4"), ("P1", "PR0"), ("U5", "PR2")]
KIND_P = [0.52, 0.08, 0.18, 0.12, 0.06, 0.04]


@dataclass(frozen=True)
class ReportInput:
    episodes: Path
    header: Path
    uasc: Path
    children: int


@cache
def kent_postcodes() -> pd.DataFrame:
    t = pc.reference_table(["C", "D", "M", "T"])
    kent = load_authority()
    return t[t["district_code"].isin(kent.district_codes) & t["easting_m"].notna()]


def _spaced(compact: str) -> str:
    return compact[:-3] + " " + compact[-3:]


def _day(d: pd.Timestamp) -> str:
    return d.strftime("%d/%m/%Y")


def write_report_input(folder: Path, *, children: int = 300, seed: int = 11) -> ReportInput:
    """Write ``episodes.csv``, ``header.csv`` and ``uasc.csv`` into ``folder``."""
    rng = np.random.default_rng(seed)
    pcs = kent_postcodes()
    by_district = {d: g.index.to_numpy() for d, g in pcs.groupby("district_code")}
    index = pcs.index.to_numpy()
    homes = index[rng.integers(0, len(index), children)]
    lines = [HEAD]
    header = ["CHILD,SEX,DOB"]
    uasc = ["CHILD,SEX,DOB,DUC"]
    start0 = pd.Timestamp("2016-06-01")
    span = (pd.Timestamp(AS_AT) - start0).days
    for i in range(children):
        child = f"R{i:04d}"
        home = homes[i]
        district = pcs.at[home, "district_code"]
        dob = pd.Timestamp(AS_AT) - pd.Timedelta(days=int(rng.integers(200, 17 * 365)))
        sex = int(rng.integers(1, 3))
        header.append(f"{child},{sex},{_day(dob)}")
        if rng.random() < 0.05:
            uasc.append(f"{child},{sex},{_day(dob)},")
        disabled = int(rng.random() < 0.19)
        start = start0 + pd.Timedelta(days=int(rng.integers(0, span)))
        n_eps = int(rng.integers(1, 4))
        for k in range(n_eps):
            last = k == n_eps - 1
            end = None if last else start + pd.Timedelta(days=int(rng.integers(30, 300)))
            if end is not None and end > pd.Timestamp(AS_AT):
                end, last = None, True
            place, provider = KINDS[int(rng.choice(len(KINDS), p=KIND_P))]
            local = rng.random() < (0.45 if disabled else 0.68)
            pool = by_district[district] if local else index
            pl = pool[int(rng.integers(0, len(pool)))]
            pl_text = "" if rng.random() < 0.02 else _spaced(pl)
            ls = "V3" if rng.random() < 0.01 else "C2"
            lines.append(
                f"{child},{_day(start)},S,{ls},N1,{place},{provider},"
                f"{'' if end is None else _day(end)},,,{_spaced(home)},{pl_text},,{disabled}"
            )
            if last:
                break
            start = end + pd.Timedelta(days=1)
    folder.mkdir(parents=True, exist_ok=True)
    paths = ReportInput(
        episodes=folder / "episodes.csv",
        header=folder / "header.csv",
        uasc=folder / "uasc.csv",
        children=children,
    )
    paths.episodes.write_text("\n".join(lines) + "\n")
    paths.header.write_text("\n".join(header) + "\n")
    paths.uasc.write_text("\n".join(uasc) + "\n")
    return paths


def boundaries_adapter(path: Path):
    """Adapter: ONS LAD GeoJSON → GeoDataFrame(district_code, district_name) in EPSG:27700."""
    import geopandas as gpd

    frame = gpd.read_file(path)
    frame = frame.rename(columns={"LAD24CD": "district_code", "LAD24NM": "district_name"})
    return frame[["district_code", "district_name", "geometry"]].to_crs(27700)


def kent_boundaries():
    """The reference LAD polygons (skips when ../shared is absent), via geo.spatial.boundaries when it is
    installed, else the adapter above."""
    path = shared_path("data", "boundaries", "kent_medway_lad_dec2024_bgc.geojson")
    try:
        from geo.spatial.boundaries import read_boundaries_file
    except ImportError:
        return boundaries_adapter(path), ""
    b = read_boundaries_file(path, authority="E10000016")
    return b.frame, b.attribution


@dataclass(frozen=True)
class Built:
    inputs: ReportInput
    analysis: object
    trend: object
    suppressed: object
    raw: object


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    inputs = write_report_input(tmp_path_factory.mktemp("rep"), children=300)
    data = read_placements(inputs.episodes, header=inputs.header, uasc=inputs.uasc)
    kent = load_authority()
    analysis = analyse(data, kent, as_at=AS_AT)
    trend = compliance_trend(data, kent, as_at=AS_AT)
    try:
        frame, note = kent_boundaries()
    except pytest.skip.Exception:
        frame, note = None, ""
    common = {"trend": trend, "boundaries": frame, "boundaries_note": note}
    return Built(
        inputs=inputs,
        analysis=analysis,
        trend=trend,
        suppressed=build_report(analysis, **common),
        raw=build_report(analysis, suppress=False, **common),
    )


@pytest.fixture(scope="module")
def pdf_bytes(built) -> bytes:
    return render_report(built.suppressed, fmt="pdf")


NUMERIC = ["children", "pct_within_20", "pct_within_10", "median_miles", "not_known"]


def test_unsuppressed_district_table_is_the_analysis(built):
    d = built.raw.districts.data
    comp = built.analysis.compliance_home
    assert d["district_code"].tolist() == comp["district_code"].tolist()
    for col in NUMERIC:
        np.testing.assert_array_equal(
            d[col].to_numpy(dtype=float), comp[col].to_numpy(dtype=float), err_msg=col
        )
    kinds = d[["in_house_foster", "ifa_foster", "other_foster", "residential", "other"]]
    assert (kinds.sum(axis=1) == d["children"]).all()
    assert not built.raw.districts.mask.to_numpy().any()


def test_suppressed_district_table_hides_small_counts_and_keeps_the_rest(built):
    t = built.suppressed.districts
    raw = built.raw.districts.data
    counts = [
        "children",
        "not_known",
        "in_house_foster",
        "ifa_foster",
        "other_foster",
        "residential",
        "other",
    ]
    """The cell-key method (docs/DISCLOSURE.md): 1-5 is always c, c stands for 0-6, every
    shown count is within 2 of the truth; nothing else is hidden (no secondary suppression)."""
    for col in counts:
        small = raw[col].between(1, 5)
        assert (t.data.loc[small, col] == "c").all(), col
        hidden = t.mask[col].to_numpy()
        assert raw.loc[hidden, col].between(0, 6).all(), col
        keep = ~hidden
        change = t.data.loc[keep, col].to_numpy(dtype=float) - raw.loc[keep, col].to_numpy(float)
        assert np.all(np.abs(change) <= 2), col
    assert t.hidden_cells > 0  # 300 children: some kinds per district are small
    # every district of 7 or more children is shown
    big = raw["children"].astype(float) >= 7
    assert not t.mask.loc[big.to_numpy(), "children"].any()


def test_small_district_hides_its_percentages(tmp_path):
    # 3 children from Dartford, many from Maidstone: Dartford's % must not show.
    lines = [HEAD]
    maid = kent_postcodes()
    maid = maid[maid["district_code"] == "E07000110"].index[:40]
    dart = kent_postcodes()
    dart = dart[dart["district_code"] == "E07000107"].index[:3]
    for i, home in enumerate([*maid, *dart]):
        lines.append(
            f"X{i},01/01/2018,S,C2,N1,U4,PR1,,,,{_spaced(home)},{_spaced(maid[(i + 1) % 40])},,0"
        )
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n")
    data = read_placements(tmp_path / "e.csv")
    rep = report_from_data(data, load_authority(), as_at=AS_AT, quarters=2)
    d = rep.districts.data.set_index("district_code")
    assert (
        d.loc["E07000107", ["children", "pct_within_20", "pct_within_10", "median_miles"]].tolist()
        == ["c"] * 4
    )
    # the cell-key method: no secondary suppression, so Maidstone's 40 stay (within 2), and
    # the total is within 2 of 43: Dartford's 3 cannot be subtracted out exactly
    assert abs(d.loc["E07000110", "children"] - 40) <= 2
    assert abs(d.loc["E10000016", "children"] - 43) <= 2
    assert rep.map_values.set_index("district_code").loc["E07000107", "hidden"]
    assert rep.trend.data.set_index("district_code").loc["E07000107"].iloc[-1] == "c"


def test_headline_previous_quarter_and_cohorts(built):
    r = built.raw
    h = r.headline
    total = built.analysis.compliance_home.iloc[-1]
    assert h.pct_within_20 == total["pct_within_20"] and h.children == total["children"]
    assert h.target_pct == 80.0 and h.previous_as_at == date(2018, 9, 30)
    prev = built.trend.table
    prev = prev[
        (prev["district_code"] == "E10000016")
        & (pd.to_datetime(prev["quarter_end"]) == "2018-09-30")
    ]
    assert h.previous_pct_within_20 == prev["pct_within_20"].iloc[0]
    assert h.change_points == round(h.pct_within_20 - h.previous_pct_within_20, 1)
    c = r.cohorts.data.set_index(r.cohorts.data.index)
    n = c["children"].to_numpy(dtype=float)
    assert n[0] == total["children"]
    assert n[1] + n[2] == n[0]  # disabled + not disabled
    assert n[3] + n[5] + n[6] + n[7] == n[0]  # under 11 + 11-15 + 16+ + age unknown
    assert n[4] == n[5] + n[6]
    uasc = (built.analysis.placements["cohort"] == "excluded_uasc").sum()
    assert n[8] == uasc > 0
    assert "target" in render_report(r, fmt="html").decode()


def test_groups_add_up(built):
    g = built.raw.groups.data
    assert g["children"].iloc[:-1].sum() == g["children"].iloc[-1]
    assert g["group"].iloc[0] == "West Kent"


def test_xlsx_opens_with_formats_frozen_header_and_notes(built):
    wb = load_workbook(io.BytesIO(render_report(built.suppressed, fmt="xlsx")))
    assert wb.sheetnames == [
        "Summary",
        "Districts",
        "Areas",
        "Cohorts",
        "Trend % within 20",
        "Trend children",
        "Notes",
    ]
    ws = wb["Districts"]
    head = [c.value for c in ws[1]]
    assert head[:4] == ["Code", "District", "Children", "% within 20 miles"]
    assert ws.freeze_panes == "C2"
    names = [ws.cell(row=r, column=2).value for r in range(2, 16)]
    assert names[:12] == list(load_authority().districts.values())
    total = ws.cell(row=15, column=3)
    assert total.value == built.raw.districts.data["children"].iloc[-1]
    assert total.number_format == "#,##0" and ws.cell(row=15, column=4).number_format == "0.0"
    cs = [c for row in ws.iter_rows(min_row=2) for c in row if c.value == "c"]
    assert cs and all(c.data_type == "s" for c in cs)
    notes = " ".join(str(c.value) for c in wb["Notes"]["A"] if c.value)
    assert "'c' means a number from 0 to 6" in notes
    assert "Open Government Licence" in notes and "1.6093" in notes
    wb_raw = load_workbook(io.BytesIO(render_report(built.raw, fmt="xlsx")))
    assert "OFF" in str(wb_raw["Summary"]["B16"].value) or any(
        "OFF" in str(c.value) for c in wb_raw["Summary"]["B"] if c.value
    )


def test_pdf_has_district_names_map_and_notes(built, pdf_bytes, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf_bytes)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    for name in load_authority().districts.values():
        assert name in text, name
    assert "disclosure control on" in text and "Definitions and data notes" in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages == 6
    if built.suppressed.boundaries is not None:
        assert "Medway" in text and "map is omitted" not in text


def test_pdf_without_boundaries_omits_the_map_with_a_note(built, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    rep = build_report(built.analysis, trend=built.trend)
    path = tmp_path / "r.pdf"
    path.write_bytes(render_report(rep, fmt="pdf"))
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "map is omitted" in text and "Tunbridge Wells" in text
    html = render_report(rep, fmt="html").decode()
    assert "map is omitted" in html


def test_html_is_self_contained_with_figures(built):
    page = render_report(built.suppressed, fmt="html").decode()
    assert page.count('class="plotly-graph-div"') == (
        3 if built.suppressed.boundaries is not None else 2
    )
    tags = re.findall(r"<script\b[^>]*>", page)
    assert tags and not [t for t in tags if "src" in t]
    markup = re.sub(r"<script\b[^>]*>.*?</script>", "", page, flags=re.S)
    assert "http" not in markup.replace("http-equiv", "")  # no external link, image or font
    assert "Plotly.newPlot" in page
    for name in load_authority().districts.values():
        assert name in page
    assert "&#x27;c&#x27; means a number from 0 to 6" in page


def test_formula_cells_neutralised_numbers_kept():
    assert neutralise("=1+1") == "'=1+1"
    for bad in ("+44", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad).startswith("'")
    assert neutralise("Ashford") == "Ashford" and neutralise(-3) == -3 and neutralise(2.5) == 2.5
    f = safe_frame(pd.DataFrame({"=bad": ['=HYPERLINK("x")', "ok"], "n": [-1, 2]}))
    assert list(f.columns) == ["'=bad", "n"]
    assert f["'=bad"].tolist() == ['\'=HYPERLINK("x")', "ok"] and f["n"].tolist() == [-1, 2]


def test_coverage_figures_wired_and_injected_text_neutralised(built):
    codes = built.analysis.compliance_home["district_code"].tolist()
    cov = pd.DataFrame(
        {
            "district_code": codes,
            "carers": np.arange(len(codes)) + 10,
            "suitable_places_20mi": np.arange(len(codes)) * 2,
            "gap": [3] + [20] * (len(codes) - 2) + [20 * (len(codes) - 2) + 3],
        }
    )
    shortage = pd.DataFrame(
        {
            "area": ["=cmd|' /C calc'!A0", "ME14 1", "-SUM(1)"],
            "children": [40, 3, 12],
            "gap": [9, 2, 0],
        }
    )
    rep = build_report(
        built.analysis,
        trend=built.trend,
        coverage=CoverageFigures(districts=cov, shortage_areas=shortage, recruitment=shortage),
    )
    d = rep.districts.data
    assert d["carers"].tolist() == cov["carers"].tolist()
    assert d["gap"].iloc[0] == "c"  # a gap of 3 children is suppressed
    assert rep.shortage_areas.data["children"].tolist() == [40, "c", 12]
    wb = load_workbook(io.BytesIO(render_report(rep, fmt="xlsx")))
    ws = wb["Shortage areas"]
    assert ws["A2"].value == "'=cmd|' /C calc'!A0" and ws["A2"].data_type == "s"
    assert ws["A4"].value == "'-SUM(1)" and ws["B2"].value == 40
    assert "Recruitment" in wb.sheetnames
    csv = render_csv(rep.shortage_areas).decode()
    assert "\n'=cmd" in csv and "\n'-SUM(1)" in csv
    assert "Coverage gap (children)" in render_report(rep, fmt="csv").decode()


def test_unknown_format_is_refused(built):
    with pytest.raises(ValueError, match="xlsx"):
        render_report(built.raw, fmt="docx")
