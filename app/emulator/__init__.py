"""An in-repo model of Jimeng's web API and ByteDance ImageX, written from the protocol notes (docs/upstream.md).

It imports nothing from the rest of ``app`` so that it can catch the client's mistakes instead of sharing
them. See README.md in this package for what it models and the knobs.
"""

from __future__ import annotations

from app.emulator.runner import EmulatorServer, start_emulator

__all__ = ["EmulatorServer", "start_emulator"]
