"""Fixtures for identity tests."""
from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def run_date() -> dt.date:
    return dt.date(2024, 6, 30)
