"""Security, second round (issue 18): uploads owned by the uploader, bounded in rows, unpacked
size and memory (findings 3 and 8), through the real app's upload callback."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from app import auth
from app.data import uploads
from app.data.store import DatasetStore, load_dataset
from app.ids import Id
from app.settings import Settings
from geo.errors import InputError
from geo.ssda903 import is_xlsx
from tests.app.auth.test_auth import users_template
from tests.app.data.test_uploads import GOOD, Session, env, pending_id

__all__ = ["env", "users_template"]

BEA = "second analyst phrase 4"


@pytest.fixture(scope="module")
def two_analysts(env):
    app, settings = env
    users = auth.state(app.server).users
    if users.get("bea") is None:
        users.add("bea", role="analyst", password=BEA)
    return app, settings


def bea(app) -> Session:
    from tests.app.auth.test_auth import PASSWORDS

    PASSWORDS.setdefault("bea", BEA)
    return Session(app, "bea")


def test_an_upload_belongs_to_its_uploader(two_analysts):
    app, settings = two_analysts
    ana = Session(app, "ana")
    dataset = pending_id(ana.upload([("episodes.csv", GOOD)]))
    meta = uploads.upload_meta(Path(settings.upload_dir), dataset)
    assert meta["uploaded_by"] == "ana" and meta["shared_with"] == []
    other = bea(app)
    # another analyst can neither read its rejected rows nor delete it
    r = other.callback(
        f"{Id.DT_REJECTS_DL}.data",
        {f"{Id.DT_REJECTS_BTN}.n_clicks": 1, f"{Id.DT_PENDING}.data": dataset},
    )
    assert r.status_code == 403 and "CHILD" not in r.get_data(as_text=True)
    token = other.client.get_cookie(auth.CSRF_COOKIE).value
    assert (
        other.client.post(f"/datasets/{dataset}/delete", headers={auth.CSRF_HEADER: token})
    ).status_code == 403
    assert (Path(settings.upload_dir) / dataset).is_dir()
    # a commissioner cannot download a report of it by id either
    cora = Session(app, "cora")
    r = cora.callback(
        f"{Id.CP_DOWNLOAD}.data", {f"{Id.CP_DL_HTML}.n_clicks": 1, f"{Id.DATASET}.data": dataset}
    )
    sent = (r.get_json() or {}).get("response", {}).get(Id.CP_DOWNLOAD) if r.is_json else None
    assert r.status_code in (200, 403) and not sent  # no report, at most an alert
    denied = [
        e
        for e in auth.AuditLog(auth.state(app.server).config.audit_log)
        if e["event"] == auth.Event.ACCESS_DENIED and e["dataset"] == dataset
    ]
    assert {e["user"] for e in denied} >= {"bea", "cora"}
    # shared explicitly: the other analyst may open it (still not delete it)
    uploads.share_upload(Path(settings.upload_dir), dataset, ["bea"])
    r = other.callback(
        f"{Id.DT_REJECTS_DL}.data",
        {f"{Id.DT_REJECTS_BTN}.n_clicks": 1, f"{Id.DT_PENDING}.data": dataset},
    )
    assert r.status_code == 200
    assert (
        other.client.post(f"/datasets/{dataset}/delete", headers={auth.CSRF_HEADER: token})
    ).status_code == 403
    token = ana.client.get_cookie(auth.CSRF_COOKIE).value
    assert (
        ana.client.post(f"/datasets/{dataset}/delete", headers={auth.CSRF_HEADER: token})
    ).status_code == 200


def test_csv_over_the_row_cap_is_refused_before_parsing(tmp_path):
    header = b"CHILD,HOME_POST,PL_POST\n"
    ok = header + b"C,ME14 1XQ,CT1 2RX\n" * 100
    uploads.check_size(ok, name="episodes.csv", max_rows=100)
    with pytest.raises(InputError, match="101 rows, above the limit of 100 rows"):
        uploads.check_size(ok + b"C,ME14 1XQ,CT1 2RX\n", name="episodes.csv", max_rows=100)
    with pytest.raises(InputError, match="PLACEMAP_MAX_UPLOAD_ROWS"):
        uploads.store_upload(tmp_path, [("episodes.csv", ok * 2)], max_rows=100)
    assert not any(tmp_path.iterdir())


def padded_bomb_workbook() -> bytes:
    """A 'workbook' whose sheet packs 1000:1, hidden by a stored (uncompressed) padding member
    that pulls the archive's average ratio under 100:1 (what the attack test used)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", b"<workbook/>", zipfile.ZIP_DEFLATED)
        z.writestr("xl/worksheets/sheet1.xml", b"<c>1</c>" * 4_000_000, zipfile.ZIP_DEFLATED)
        z.writestr("xl/media/padding.bin", bytes(range(256)) * 2_000, zipfile.ZIP_STORED)
    return buf.getvalue()


def test_one_member_packed_too_tightly_is_refused_even_when_padded():
    raw = padded_bomb_workbook()
    infos = zipfile.ZipFile(io.BytesIO(raw)).infolist()
    average = sum(i.file_size for i in infos) / sum(i.compress_size for i in infos)
    assert average < 100  # the old whole-archive check let it through
    with pytest.raises(InputError, match="limits for a workbook"):
        is_xlsx(raw, name="episodes.xlsx")


def test_workbook_larger_than_the_row_cap_allows_is_refused():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", b"<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", bytes(range(256)) * 40_000, zipfile.ZIP_STORED)
    with pytest.raises(InputError, match="unpacks to"):
        uploads.check_size(buf.getvalue(), name="e.xlsx", max_rows=10_000)  # 2.4 MB allowed


def test_memory_after_many_uploads_stays_bounded(tmp_path):
    """Uploaded datasets kept in a worker are at most ``max_datasets`` (LRU), so memory is at
    most max_datasets x (a dataset of max_upload_rows rows) on top of the default data."""
    settings = Settings(upload_dir=tmp_path / "up", cache_dir=tmp_path / "c", max_datasets=3)
    store = DatasetStore(settings)
    ids = []
    for _ in range(8):
        stored = uploads.store_upload(tmp_path / "up", [("episodes.csv", GOOD)], uploaded_by="ana")
        ds = load_dataset(stored.files, label="t", synthetic=False, dataset_id=stored.dataset_id)
        ids.append(store.add(ds))
        assert len(store.loaded()) <= 3
    assert store.loaded() == ids[-3:]
    assert store.get(ids[0]).id == ids[0]  # evicted ones are read again from disk
    assert store.loaded()[-1] == ids[0] and len(store.loaded()) == 3
