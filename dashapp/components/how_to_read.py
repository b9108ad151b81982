"""``HowToRead(page_key)``: the collapsible "How to read this page" panel at the top of every page.

A ``<details>`` element, closed by default: it opens and closes in the browser with no callback, and the keyboard
reaches it like a link. The bullets come from :mod:`dashapp.components.how_to_read_text`, with a link to the full
document on the Help page.
"""

from __future__ import annotations

import dash
from dash import html

from dashapp.components.how_to_read_text import PAGES, PageGuide


def doc_href(slug: str) -> str:
    """The Help page's address of the document ``slug``."""
    return dash.get_relative_path(f"/help?doc={slug}")


def guide_bullets(guide: PageGuide) -> html.Ul:
    """The guide's bullets as a list."""
    return html.Ul([html.Li(b) for b in guide.bullets], className="small mb-1")


class HowToRead(html.Details):
    """The page's guide, closed by default, with a link to its full document; ``page_key`` is a key of
    :data:`~dashapp.components.how_to_read_text.PAGES` (``KeyError`` otherwise)."""

    def __init__(self, page_key: str) -> None:
        guide = PAGES[page_key]
        super().__init__(
            [
                html.Summary("How to read this page", className="ll-how-to-read-summary"),
                guide_bullets(guide),
                html.A("Read the full guide on the Help page", href=doc_href(guide.doc), className="small"),
            ],
            id=f"how-to-read-{page_key}",
            className="ll-how-to-read",
            open=False,
        )
