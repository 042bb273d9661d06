"""``jimeng-api serve`` (production server) and ``jimeng-api demo`` (the service against the emulator)."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence

from config.settings import SettingsError
from config.upstream import UpstreamConfigError

GUNICORN_CONFIG = "python:config.gunicorn"
APP_TARGET = "app:create_app()"


def gunicorn_command(extra: Sequence[str] = ()) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", GUNICORN_CONFIG, *extra, APP_TARGET]


def serve(_: argparse.Namespace) -> int:
    """Replace this process with gunicorn (gevent workers, settings from the environment)."""
    command = gunicorn_command()
    os.execv(command[0], command)
    return 0  # pragma: no cover - execv does not return


def demo(args: argparse.Namespace) -> int:
    """Start the emulator in this process and the service in a child, pointed at it; Ctrl-C stops both."""
    from app.emulator import start_emulator
    from config.settings import Settings
    from config.upstream import load_upstream

    settings = Settings.from_env()
    load_upstream(settings.jimeng_upstream_config)  # a bad file stops the demo before anything starts
    args.port = args.port or settings.port
    emulator = start_emulator(port=args.emulator_port, image_seconds=args.image_seconds)
    env = dict(os.environ)
    env.update(
        JIMENG_BASE_URL=emulator.url,
        JIMENG_IMAGEX_URL=emulator.url,
        ALLOW_PRIVATE_IMAGE_URLS="1",
        PORT=str(args.port),
    )
    env.setdefault("HOST", "127.0.0.1")  # the demo is for this machine
    env.setdefault("WEB_CONCURRENCY", "1")
    server = subprocess.Popen(gunicorn_command(), env=env)
    print(_demo_banner(args.port, emulator.url), flush=True)
    stop = _install_stop_handlers()
    try:
        while server.poll() is None and not stop:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        emulator.shutdown()
    return 0 if stop or server.returncode in (0, -signal.SIGTERM) else server.returncode or 1


def _install_stop_handlers() -> list[int]:
    stop: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: stop.append(signum))
    return stop


def _demo_banner(port: int, emulator_url: str) -> str:
    return f"""
jimeng-api demo: the service on http://127.0.0.1:{port}, Jimeng emulated at {emulator_url}
Any Bearer works. Try:

  curl http://127.0.0.1:{port}/v1/images/generations \\
    -H "Authorization: Bearer demo-session-0001" -H "Content-Type: application/json" \\
    -d '{{"prompt": "a cute kitten", "ratio": "16:9"}}'

Ctrl-C stops both.
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jimeng-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the production server (gunicorn, gevent workers)").set_defaults(func=serve)
    demo_parser = commands.add_parser("demo", help="run the service against the built-in Jimeng emulator")
    demo_parser.add_argument("--port", type=int, default=None, help="service port (default: PORT or 5100)")
    demo_parser.add_argument("--emulator-port", type=int, default=0)
    demo_parser.add_argument("--image-seconds", type=float, default=4.0, help="emulated image generation time")
    demo_parser.set_defaults(func=demo)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (SettingsError, UpstreamConfigError) as err:  # one line, as config/gunicorn.py prints it
        sys.stderr.write(f"jimeng-api: configuration error: {err}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
