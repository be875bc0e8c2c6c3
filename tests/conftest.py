"""Shared fixtures. Real clients (Chromium, ical.js, libical) are required under CI=true:
a missing client fails the suite there instead of being skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# One CP-SAT worker per solve: pytest-xdist already runs one test per core, and N workers
# each with N solver threads would only fight for the cores (scheduler.solve.default_workers).
os.environ.setdefault("SCHEDULER_WORKERS", "1")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INPUTS = ROOT / "inputs"


def require(available: bool, what: str) -> None:
    """Skip a test locally when a real client is missing; fail it in CI."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")
