"""The plain server-rendered pages (sign-in, sign-out, local mode, administration, errors).

Jinja2 templates in ``templates/`` rendered with autoescaping, so every value shown — user
names, audit details, the ``next`` path — is escaped by the template engine. They carry no
scripts (see ``templates/base.html`` for the Content-Security-Policy).
"""

from __future__ import annotations

from typing import Any

import flask
import jinja2

_TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("app.auth", "templates"),
    autoescape=jinja2.select_autoescape(),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_page(template: str, *, status: int = 200, **context: Any) -> flask.Response:
    """A plain server-rendered page (no scripts) from ``templates/<template>``, values escaped.

    Raises ``jinja2.UndefinedError`` when the template uses a value not given in ``context``.
    """
    html = _TEMPLATES.get_template(template).render(**context)
    return flask.Response(html, status=status, mimetype="text/html")
