"""Measurements of chargen-tui (each script's docstring says how to run it); not part of the package."""
