"""The HTTP client of the ONS download, apart from the computation: one GET of a JSON object,
with every way it can fail turned into a :class:`FetchError` that says what happened in words."""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from typing import Any


class FetchError(Exception):
    """One failed request: ``what`` says what happened, in words."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def get_json(url: str, *, timeout_s: float) -> dict[str, Any]:
    """GET ``url`` and return the JSON object it answers (waiting at most ``timeout_s`` seconds
    for each read). Raises :class:`FetchError` on an HTTP error, a timeout, a refused or dropped
    connection, a body that is not a complete JSON object, or an ArcGIS ``error`` object."""
    request = urllib.request.Request(url, headers={"User-Agent": "placemap (boundaries)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        err.close()  # it holds the connection open otherwise
        raise FetchError(f"the server answered HTTP {err.code} ({err.reason})") from err
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, TimeoutError):
            raise FetchError(f"no answer within {timeout_s:g} s (timed out)") from err
        if isinstance(reason, ConnectionRefusedError | socket.gaierror):
            raise FetchError(f"could not connect ({reason})") from err
        if isinstance(reason, ConnectionError):
            raise FetchError(f"the connection dropped ({type(reason).__name__})") from err
        raise FetchError(f"could not connect ({reason})") from err
    except TimeoutError as err:
        raise FetchError(f"no answer within {timeout_s:g} s (timed out)") from err
    except http.client.IncompleteRead as err:
        raise FetchError(
            f"the connection dropped part-way through the response ({len(err.partial)} bytes "
            "received)"
        ) from err
    except (ConnectionError, http.client.RemoteDisconnected) as err:
        # A reset or a close before the answer was complete: the same failure for the user.
        raise FetchError(f"the connection dropped ({type(err).__name__})") from err
    except (http.client.HTTPException, OSError) as err:
        raise FetchError(f"the connection failed ({type(err).__name__}: {err})") from err
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FetchError(
            f"the response ({len(body)} bytes) is not complete JSON, so the download was cut "
            "short or the server sent an error page"
        ) from err
    if not isinstance(payload, dict):
        raise FetchError("the response is JSON but not an object")
    if "error" in payload:
        e = payload["error"] or {}
        raise FetchError(f"the service reported error {e.get('code', '?')}: {e.get('message', e)}")
    return payload
