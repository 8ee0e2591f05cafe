"""Calls are answered in office hours: these tests' office is open every hour of every day; a frame holds a
browser's session description (the default 64 KB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_center.config import Config
from tests.conftest import make_config

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALWAYS_OPEN = {"holidays": "", "hours": {day: ["00:00-24:00"] for day in DAYS}}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, sla=ALWAYS_OPEN, webchat={"max_frame_bytes": 65536})
