"""Calls are answered in office hours: these tests' office is open every hour of every day; a frame holds a
browser's session description (the default 64 KB); a page whose socket closed has half a second to come back."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_center.config import Config
from tests.conftest import ALWAYS_OPEN, make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, sla=ALWAYS_OPEN, webchat={"max_frame_bytes": 65536}, call={"resume_grace_s": 0.5})
