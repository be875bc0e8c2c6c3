"""Shared fixtures. Real clients (Chromium, ical.js, libical) are required under CI=true:
a missing client fails the suite there instead of being skipped."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INPUTS = ROOT / "inputs"


def require(available: bool, what: str) -> None:
    """Skip a test locally when a real client is missing; fail it in CI."""
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is required in CI (.ci/run installs it)")
    pytest.skip(f"{what} is not installed")
