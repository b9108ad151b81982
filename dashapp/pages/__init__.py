"""Dash Pages: one module per page (``register_page``, ``layout(**query)``, its callbacks below). See docs/app.md."""
