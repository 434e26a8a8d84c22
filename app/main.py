"""The Dash app: ``create_app(settings)`` builds a ready-to-serve app (no globals)."""

from __future__ import annotations

import logging
from importlib.resources import files

import dash
import dash_bootstrap_components as dbc
from dash import Dash, dcc, html

from app.callbacks import callback
from app.data.state import STORE_KEY
from app.data.store import DatasetStore
from app.ids import Id
from app.settings import Settings
from geo.spatial import set_postcode_cache_dir

PAGES = [
    ("app.pages.overview", "/", "Compliance map"),
    ("app.pages.coverage", "/coverage", "Carer coverage"),
    ("app.pages.recruitment", "/recruitment", "Recruitment planning"),
    ("app.pages.comparison", "/comparison", "District comparison"),
    ("app.pages.benchmark", "/benchmark", "Benchmark"),
    ("app.pages.forecast", "/forecast", "Forecast"),
    ("app.pages.data", "/data", "Data"),
]

# Pages linked from the footer, not the navigation bar (GOV.UK puts the statement there).
FOOTER_PAGES = [("app.pages.accessibility", "/accessibility", "Accessibility statement")]

# Dash's page template with the language of the page (WCAG 3.1.1) and a skip link to the <main>
# landmark as the first thing a keyboard reaches (2.4.1); the scripts stay outside any landmark.
INDEX_STRING = """<!DOCTYPE html>
<html lang="en-GB">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        <a class="skip-link" href="#main-content">Skip to main content</a>
        {%app_entry%}
        {%config%}
        {%scripts%}
        {%renderer%}
    </body>
</html>"""

log = logging.getLogger("placemap")


def _navbar(settings: Settings, store: DatasetStore) -> dbc.Navbar:
    links = [dbc.NavItem(dbc.NavLink(name, href=path, active="exact")) for _, path, name in PAGES]
    # Admin and Sign out: filled per request (shell_callbacks.account_links), only where they
    # work — never in local mode, Admin only for a role that may open it
    links.append(html.Div(id=Id.NAV_ACCOUNT, className="navbar-nav"))
    return dbc.Navbar(
        dbc.Container(
            [
                dbc.NavbarBrand(
                    [
                        html.Span("placemap", className="brand"),
                        html.Span(
                            f" · {store.authority.name} children in care", className="brand-sub"
                        ),
                    ],
                    href="/",
                ),
                dbc.Nav(links, navbar=True, className="ms-auto"),
            ],
            fluid=True,
        ),
        color="#1f2a44",
        dark=True,
        className="mb-0",
    )


def _shell(settings: Settings, store: DatasetStore) -> html.Div:
    return html.Div(
        [
            dcc.Location(id=Id.URL),
            dcc.Store(id=Id.DATASET, storage_type="session"),
            _navbar(settings, store),
            html.Div(id=Id.DATASET_BADGE, className="dataset-banner"),
            html.Main(
                dbc.Container(dash.page_container, fluid=True, className="pt-3 pb-4"),
                id=Id.MAIN,
                tabIndex="-1",  # the skip link's target takes the focus
            ),
            html.Footer(
                [
                    html.A(
                        "Accessibility statement", href="/accessibility", className="footer-link"
                    ),
                    " · Distances: DfE SSDA903 method (straight line between ONS Postcode Directory grid "
                    "references, miles to one decimal). Postcodes and boundaries: Source: Office for "
                    "National Statistics licensed under the Open Government Licence v.3.0. Contains OS "
                    "data © Crown copyright and database right 2025. Contains Royal Mail data © Royal "
                    "Mail copyright and database right 2025.",
                ],
                className="footer",
            ),
        ]
    )


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app for ``settings`` (default: from ``PLACEMAP_*`` variables)."""
    settings = settings or Settings.from_env()
    set_postcode_cache_dir(settings.cache_dir)  # compact postcode arrays in the cache folder
    store = DatasetStore(settings)
    from app.background import CACHE_KEY, manager

    background, background_cache = manager(settings)  # long work: progress and Cancel
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(files("app.assets")),  # an installed folder, never a zip
        external_stylesheets=[],  # Bootstrap is served from assets/vendor: works offline
        suppress_callback_exceptions=True,
        title=f"placemap · {store.authority.name}",
        update_title="",  # "" or None: the tab title stays still (Dash docs)
        serve_locally=True,
        index_string=INDEX_STRING,
        background_callback_manager=background,
    )
    app.server.config[STORE_KEY] = store
    app.server.config[CACHE_KEY] = background_cache
    app.server.config["PLACEMAP_SETTINGS"] = settings
    import importlib

    for module, path, name in PAGES + FOOTER_PAGES:
        page = importlib.import_module(module)
        dash.register_page(
            module,
            path=path,
            name=name,
            title=f"{name} · placemap",
            layout=page.layout,
            order=len(dash.page_registry),
        )
    app.layout = _shell(settings, store)
    from app import shell_callbacks  # noqa: F401  (registers the banner callback)
    from app.auth import install_security

    install_security(app, settings)  # sign-in, roles, audit log, headers, upload limits
    from app.map_assets import install_map_assets

    install_map_assets(app.server)  # map geometry at cacheable URLs, behind the sign-in gate
    callback.register(app)  # every page's and the shell's callbacks, on this app
    return app
