"""gunicorn settings: gevent workers, so one worker holds many long generations (each a greenlet).

Values come from config/settings.py, so a bad PORT or WEB_CONCURRENCY stops the master with one line. The
master also reads the protocol file (JIMENG_UPSTREAM_CONFIG) once, so a bad one stops it the same way instead
of every worker failing to boot with a traceback.
No preload: the app (and its poller thread) must be created after gevent patched the worker.
SIGTERM (every deploy, a platform restart): see ``post_worker_init`` and ``GRACEFUL_TIMEOUT_SECONDS``.
"""

import signal
import sys
from types import FrameType
from typing import Any

from config.settings import Settings, SettingsError
from config.upstream import UpstreamConfigError, load_upstream

try:
    _settings = Settings.from_env()
    load_upstream(_settings.jimeng_upstream_config)
except (SettingsError, UpstreamConfigError) as _err:
    sys.stderr.write(f"jimeng-api: configuration error: {_err}\n")
    raise SystemExit(1) from None

bind = f"{_settings.host}:{_settings.port}"
worker_class = "app.gunicorn_worker.JsonErrorGeventWorker"  # gevent, with gunicorn's own errors in JSON
workers = _settings.web_concurrency
worker_connections = _settings.gunicorn_worker_connections
keepalive = 5  # seconds; above typical proxy idle probes, below Heroku's 55 s idle cut
timeout = 60  # heartbeat of a worker; long generations are greenlets and do not block it
graceful_timeout = _settings.graceful_timeout_seconds  # the app answers what still runs 5 s before its end
preload_app = False
accesslog = None  # the app writes one access line per request itself, with its request id
errorlog = "-"
loglevel = _settings.log_level.lower() if _settings.log_level not in ("TRACE", "SUCCESS") else "info"
capture_output = False
forwarded_allow_ips = "*" if _settings.trust_proxy else "127.0.0.1"
control_socket_disable = True  # gunicorn >= 25's admin socket: one shared path would collide between instances


def post_worker_init(worker: Any) -> None:
    """SIGTERM in a worker (the master passes on its own, a platform sends it to every process): gunicorn's
    handler (stop accepting, then wait ``graceful_timeout`` for the requests in flight), and before it the app's
    shutdown notice, so every generation still running shortly before that window ends is answered with its
    history id instead of being cut off (app/domain/shutdown.py). Runs after gunicorn installed its handlers;
    SIGINT/SIGQUIT (quick shutdown) are left as they are."""
    from app.wiring import begin_shutdown

    app = worker.wsgi  # the Flask app wsgi.py built in this worker
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        begin_shutdown(app)
        if callable(gunicorn_handler):
            gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn had it: do not break system calls in flight
