"""Defines VT release version."""

__version__ = "0.22.0"
