"""Ledgerlight's web app: a Plotly Dash workbench (see ``dashapp.app``).

Importing this package loads nothing heavy; ``dashapp.app`` builds the app and ``dashapp.cli`` serves it.
"""
