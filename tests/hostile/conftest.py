"""Hostile tests run the real service against the emulator, with the e2e fixtures (and their check that no
full session id of a request reaches a log line)."""

from tests.e2e.conftest import api, emu, emulator_session, log_lines, start_api

__all__ = ["api", "emu", "emulator_session", "log_lines", "start_api"]
