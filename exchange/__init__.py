"""File formats the coordination office exchanges (import, Excel export, reports).

Pure functions over pydantic models and dicts; no database access. Import from the submodules
(exchange.tabular, exchange.reports, ...): this package imports nothing, so a command that only needs
exchange.errors does not load pandas and plotly at startup.
"""
