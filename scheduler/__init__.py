"""Scheduling and matchmaking for virtual city-partnership conferences."""

__version__ = "0.1.0"
