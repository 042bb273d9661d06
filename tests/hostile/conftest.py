"""Hostile clients against the real service: the e2e fixtures (the app against the emulator over loopback)."""

from __future__ import annotations

from tests.e2e.conftest import api, emu, emulator_session, log_lines, start_api

__all__ = ["api", "emu", "emulator_session", "log_lines", "start_api"]
