"""Accessibility statement (the GOV.UK model statement): how accessible placemap is, what is not
yet, how to report a problem, the enforcement procedure and how it was tested. Linked from the
footer of every page, as the Public Sector Bodies Accessibility Regulations 2018 expect."""

from __future__ import annotations

from typing import Any

from dash import html

from app.data.state import store

PREPARED = "6 December 2026"  # when this statement was written and the app last tested
AXE_VERSION = "4.14.1"  # the axe-core release the browser tests run (Makefile AXE_VERSION)


def _section(title: str, *body: Any) -> html.Section:
    return html.Section([html.H2(title, className="section-title"), *body], className="mb-3")


def layout(**_kwargs: Any) -> html.Div:
    name = store().authority.name
    return html.Div(
        [
            html.H1("Accessibility statement for placemap", className="page-title"),
            html.Div(
                [
                    html.P(
                        f"This statement applies to placemap as run by {name} for its "
                        "children's services staff: the Compliance map, Carer coverage, "
                        "Recruitment planning, District comparison, Benchmark and Data pages."
                    ),
                    html.P(
                        "We want as many people as possible to be able to use it. For example, "
                        "that means you should be able to:"
                    ),
                    html.Ul(
                        [
                            html.Li(
                                "zoom in up to 400 % (320 CSS pixels wide) without scrolling "
                                "sideways: only a wide table scrolls, inside its own box"
                            ),
                            html.Li(
                                "use every page, including the what-if on Recruitment planning, "
                                "with a keyboard only (a Skip to main content link comes first)"
                            ),
                            html.Li(
                                "read every map and chart as a table (Show as table under each), "
                                "with small numbers protected as on the map"
                            ),
                            html.Li(
                                "use a screen reader: controls are named, sections have headings, "
                                "and what a filter, sort or suggestion changed is read out"
                            ),
                            html.Li(
                                "tell target bands apart without colour: each is also in words"
                            ),
                        ]
                    ),
                    _section(
                        "How accessible this website is",
                        html.P("We know some parts of this website are not fully accessible:"),
                        html.Ul(
                            [
                                html.Li(
                                    "the maps and charts themselves cannot be explored with a "
                                    "keyboard or screen reader: use the table beside or under "
                                    "each one, which holds the same figures"
                                ),
                                html.Li(
                                    "a map's detail for one area (its tooltip) appears only on "
                                    "mouse hover: the same figures are in the tables"
                                ),
                                html.Li(
                                    "two of the four target band colours are close in greyscale; "
                                    "the band is always given in words as well"
                                ),
                                html.Li(
                                    "the downloaded PDF report has not been tested with "
                                    "assistive technology; the HTML and Excel reports hold the "
                                    "same tables"
                                ),
                            ]
                        ),
                    ),
                    _section(
                        "Feedback and contact information",
                        html.P(
                            f"If you need information on this website in a different format, or "
                            f"find a problem not listed on this page, contact the placemap "
                            f"administrator at {name} (the person who set up your account). "
                            "Say which page you were on, what you were trying to do and the "
                            "assistive technology you use, if any."
                        ),
                    ),
                    _section(
                        "Reporting accessibility problems with this website",
                        html.P(
                            "We're always looking to improve the accessibility of this website. "
                            "If you find any problems not listed on this page or think we're not "
                            "meeting accessibility requirements, contact the placemap "
                            "administrator as above."
                        ),
                    ),
                    _section(
                        "Enforcement procedure",
                        html.P(
                            "The Equality and Human Rights Commission (EHRC) is responsible for "
                            "enforcing the Public Sector Bodies (Websites and Mobile "
                            "Applications) (No. 2) Accessibility Regulations 2018 (the "
                            "'accessibility regulations'). If you're not happy with how we "
                            "respond to your complaint, contact the Equality Advisory and "
                            "Support Service (EASS)."
                        ),
                    ),
                    _section(
                        "Technical information about this website's accessibility",
                        html.P(
                            f"{name} is committed to making its website accessible, in "
                            "accordance with the Public Sector Bodies (Websites and Mobile "
                            "Applications) (No. 2) Accessibility Regulations 2018."
                        ),
                        html.H3("Compliance status", className="subsection-title"),
                        html.P(
                            "This website is partially compliant with the Web Content "
                            "Accessibility Guidelines version 2.2 AA standard, due to the "
                            "non-compliances listed below."
                        ),
                        html.H3("Non-accessible content", className="subsection-title"),
                        html.Ul(
                            [
                                html.Li(
                                    "The maps and charts are drawn as graphics a screen reader "
                                    "cannot explore (1.1.1 Non-text content, 2.1.1 Keyboard); "
                                    "each has a name and a table of the same figures."
                                ),
                                html.Li(
                                    "Map tooltips appear on mouse hover only (1.4.13 Content on "
                                    "hover or focus; 2.1.1 Keyboard): their figures are in the "
                                    "tables."
                                ),
                                html.Li(
                                    "The PDF report has not been checked against PDF/UA "
                                    "(1.3.1 Info and relationships)."
                                ),
                            ]
                        ),
                    ),
                    _section(
                        "What we're doing to improve accessibility",
                        html.P(
                            "Every change to placemap is checked by automated tests in a real "
                            "browser: axe-core with the WCAG 2.2 AA rules on every page and "
                            "after filter changes, suggestion runs and upload errors, and a "
                            "keyboard-only what-if. We will test with screen reader users "
                            "(NVDA, JAWS, VoiceOver) and fix what they find."
                        ),
                    ),
                    _section(
                        "Preparation of this accessibility statement",
                        html.P(
                            f"This statement was prepared on {PREPARED}. The website was tested "
                            f"on {PREPARED} by the placemap developers: axe-core {AXE_VERSION} "
                            "(WCAG 2.0, 2.1 and 2.2 A and AA rules) in Chromium on every page, "
                            "keyboard-only use of every page, every page at 200 % zoom and reflow at 320 CSS "
                            "pixels."
                        ),
                    ),
                ],
                className="card-panel statement",
            ),
        ]
    )
