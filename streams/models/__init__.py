"""Scoring models shipped with the package (versioned TOML data files)."""
