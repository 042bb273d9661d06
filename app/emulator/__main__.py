"""``python -m app.emulator --port N``: serve until SIGINT/SIGTERM, announcing the URL on one line."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from app.emulator.runner import HOST, start_emulator


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m app.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks a free one)")
    parser.add_argument("--host", default=HOST, help="address to bind (default 127.0.0.1)")
    parser.add_argument("--image-seconds", type=float, default=float(os.environ.get("EMULATOR_IMAGE_SECONDS", 8)))
    parser.add_argument("--video-seconds", type=float, default=float(os.environ.get("EMULATOR_VIDEO_SECONDS", 20)))
    strict = os.environ.get("EMULATOR_STRICT", "1").lower() not in ("0", "false", "no")
    parser.add_argument("--strict", action=argparse.BooleanOptionalAction, default=strict,
                        help="model the 2026 upstream strictly (default; --no-strict accepts baseline constants)")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    server = start_emulator(
        port=args.port,
        host=args.host,
        image_seconds=args.image_seconds,
        video_seconds=args.video_seconds,
        strict=args.strict,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    print(f"EMULATOR_LISTENING {server.url}", flush=True)
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
