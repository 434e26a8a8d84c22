"""Reference districts and files around Kent, and a local fake ArcGIS feature service serving
them; shared by the boundary tests and the ``placemap boundaries`` CLI tests. Never touches the
internet."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

from tests.conftest import shared_path

KENT = {
    "E07000105": "Ashford",
    "E07000106": "Canterbury",
    "E07000107": "Dartford",
    "E07000108": "Dover",
    "E07000109": "Gravesham",
    "E07000110": "Maidstone",
    "E07000111": "Sevenoaks",
    "E07000112": "Folkestone and Hythe",
    "E07000113": "Swale",
    "E07000114": "Thanet",
    "E07000115": "Tonbridge and Malling",
    "E07000116": "Tunbridge Wells",
}
MEDWAY = "E06000035"
# Official polygons within 1 km of Kent's districts (LAD Dec 2024 BGC).
KENT_NEIGHBOURS = {
    "E09000004": "Bexley",
    "E09000006": "Bromley",
    "E07000064": "Rother",
    "E07000215": "Tandridge",
    "E06000034": "Thurrock",
    "E07000065": "Wealden",
}


TIMINGS: dict[str, float] = {}


def kent_medway_file() -> Path:
    return shared_path("data", "boundaries", "kent_medway_lad_dec2024_bgc.geojson")


def uk_file() -> Path:
    return shared_path("data", "boundaries", "lad_dec2024_uk_bgc.geojson")


class FakeArcGIS:
    """A local ArcGIS feature service serving the reference LAD file in pages.

    ``fail`` = (query number, mode): mode ``http500`` answers HTTP 500, ``drop`` sends half a
    page and closes the connection, ``slow`` waits longer than the client's timeout, ``error``
    answers 200 with an ArcGIS error object.
    """

    def __init__(self, features: list[dict]):
        self.features = sorted(features, key=lambda f: f["properties"]["LAD24CD"])
        self.fail: tuple[int, str] | None = None
        self.queries: list[dict[str, str]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):
                # The client may have given up (the timeout test): nothing left to answer.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    fake.handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/arcgis/FeatureServer"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def send(self, h: BaseHTTPRequestHandler, payload: dict, *, cut: bool = False) -> None:
        body = json.dumps(payload).encode()
        h.send_response(200)
        h.send_header("Content-Type", "application/geo+json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if cut:
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            h.close_connection = True
            return
        h.wfile.write(body)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        url = urllib.parse.urlsplit(h.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path.endswith("/FeatureServer/0"):
            fields = [{"name": n, "type": "esriFieldTypeString"} for n in ("LAD24CD", "LAD24NM")]
            self.send(h, {"name": "LAD_DEC_2024_UK_BGC", "fields": fields, "maxRecordCount": 2000})
            return
        if not url.path.endswith("/FeatureServer/0/query"):
            h.send_error(404)
            return
        self.queries.append(q)
        if self.fail and self.fail[0] == len(self.queries):
            mode = self.fail[1]
            if mode == "http500":
                h.send_error(500, "Internal Server Error")
                return
            if mode == "slow":
                time.sleep(1.5)
            if mode == "error":
                self.send(h, {"error": {"code": 400, "message": "Invalid query parameters"}})
                return
        feats = self.features
        codes = re.findall(r"'([A-Z]\d{8})'", q.get("where", ""))
        if codes:
            feats = [f for f in feats if f["properties"]["LAD24CD"] in codes]
        if "geometry" in q:
            box = shapely.box(*map(float, q["geometry"].split(",")))
            feats = [f for f in feats if shapely.geometry.shape(f["geometry"]).intersects(box)]
        start, count = int(q.get("resultOffset", 0)), int(q.get("resultRecordCount", 2000))
        page = feats[start : start + count]
        payload = {"type": "FeatureCollection", "features": page}
        if start + count < len(feats):
            payload["properties"] = {"exceededTransferLimit": True}
        self.send(
            h, payload, cut=self.fail is not None and self.fail == (len(self.queries), "drop")
        )


@pytest.fixture(scope="module")
def reference_features() -> list[dict]:
    """The UK reference file's features around Kent (EPSG:4326 GeoJSON dicts)."""
    uk = gpd.read_file(uk_file(), bbox=(-0.6, 50.6, 1.8, 51.8))
    return json.loads(uk[["LAD24CD", "LAD24NM", "geometry"]].to_json())["features"]
