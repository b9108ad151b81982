"""The project's Markdown docs (``docs/*.md``) for the Help page, read once per worker.

Developer and operator documents (:data:`DEVELOPER_DOCS`: contracts between packages, the CLI, the API, deployment)
are for ``admin`` only; every other role gets the user-facing ones (:func:`docs_for`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parents[2] / "docs"
IMAGES_DIR = DOCS_DIR / "img"
#: Where the app serves ``docs/img`` (so the Markdown's ``img/...`` links work in the Help page).
IMAGE_ROUTE = "/help/img"
#: documents written for developers and operators, listed to ``admin`` only
DEVELOPER_DOCS = frozenset(
    {"README", "api", "cli", "continuous-learning", "contracts", "deploy", "scaling", "your-own-data"}
)
ADMIN = "admin"


@dataclass(frozen=True)
class Doc:
    """One document: its slug (file name without ``.md``), its title (first heading) and its Markdown text."""

    slug: str
    title: str
    text: str


@functools.cache
def list_docs(folder: Path = DOCS_DIR) -> tuple[Doc, ...]:
    """Every ``*.md`` in the docs folder, sorted by slug (empty when the folder is missing)."""
    if not folder.is_dir():
        return ()
    docs = []
    for path in sorted(folder.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        heading = next(
            (line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")), path.stem
        )
        text = re.sub(r"\]\(img/", f"]({IMAGE_ROUTE}/", text)  # images are served by the app (see app.py)
        docs.append(Doc(slug=path.stem, title=heading.replace("`", ""), text=text))
    return tuple(docs)


def get_doc(slug: str, folder: Path = DOCS_DIR) -> Doc | None:
    """The document with this slug, or None (slugs come from the folder listing, so no path is ever built from input)."""
    return next((doc for doc in list_docs(folder) if doc.slug == slug), None)


def is_developer_doc(doc: Doc) -> bool:
    """Whether ``doc`` is written for developers and operators (:data:`DEVELOPER_DOCS`)."""
    return doc.slug in DEVELOPER_DOCS


def docs_for(role: str | None, folder: Path = DOCS_DIR) -> tuple[Doc, ...]:
    """The documents ``role`` is shown: every one for ``admin``, the user-facing ones for any other role."""
    return tuple(d for d in list_docs(folder) if role == ADMIN or not is_developer_doc(d))


def get_doc_for(role: str | None, slug: str, folder: Path = DOCS_DIR) -> Doc | None:
    """The document with this slug if ``role`` is shown it, else None."""
    return next((doc for doc in docs_for(role, folder) if doc.slug == slug), None)
