"""Fixtures for identity tests."""
from __future__ import annotations

import datetime as dt

import pytest


@pytest.fixture
def store(schema_store):
    """Identity reads core.person_records and raw.batches: the product's own tables, empty."""
    return schema_store


@pytest.fixture
def run_date() -> dt.date:
    return dt.date(2024, 6, 30)
