"""Hostile tests run the in-process app against the emulator with the end-to-end fixtures."""

from tests.e2e.conftest import api, emu, emulator_session, log_lines, start_api

__all__ = ["api", "emu", "emulator_session", "log_lines", "start_api"]
