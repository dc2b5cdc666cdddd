"""Packaged policy files (data only)."""
