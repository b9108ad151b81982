"""Small function components that every page shares (cards, tiles, headers, the shell's navbar and footer)."""

from dashapp.components.cards import (
    error_card,
    figure_card,
    kpi_tile,
    no_data_card,
    not_ready_card,
)
from dashapp.components.export import safe_csv
from dashapp.components.shell import footer, nav_pages, navbar, page_header

__all__ = [
    "error_card",
    "figure_card",
    "footer",
    "kpi_tile",
    "nav_pages",
    "navbar",
    "no_data_card",
    "not_ready_card",
    "page_header",
    "safe_csv",
]
