"""The contract tests run against the same live service and emulator as the end-to-end tests."""

from tests.e2e.conftest import api, emu, emulator_session, log_lines, start_api  # noqa: F401
