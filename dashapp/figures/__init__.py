"""Pure functions turning plain data into Plotly figures, one module per area; ``theme`` is shared."""
