"""gunicorn settings: gevent workers, so one worker holds many long generations (each a greenlet).

Values come from config/settings.py, so a bad PORT or WEB_CONCURRENCY stops the master with one line. The
master also reads the protocol file (JIMENG_UPSTREAM_CONFIG) once, so a bad one stops it the same way instead
of every worker failing to boot with a traceback.
No preload: the app (and its poller thread) must be created after gevent patched the worker.
SIGTERM (every deploy, a platform restart): see ``post_worker_init`` and ``GRACEFUL_TIMEOUT_SECONDS``.
"""

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path
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


def post_fork(server: Any, worker: Any) -> None:
    """In each worker, right after the fork: one malloc arena (``app/memory.py``: the resolver's threads would
    each keep one of their own), unless ``MALLOC_ARENA_MAX`` in the environment already told glibc otherwise."""
    if not os.environ.get("MALLOC_ARENA_MAX"):
        from app.memory import one_malloc_arena

        one_malloc_arena()


def post_worker_init(worker: Any) -> None:
    """SIGTERM in a worker (the master passes on its own, a platform sends it to every process): gunicorn's
    handler (stop accepting, then wait ``graceful_timeout`` for the requests in flight), and before it the app's
    shutdown notice, so every generation still running shortly before that window ends is answered with its
    history id instead of being cut off (app/domain/shutdown.py). Runs after gunicorn installed its handlers;
    SIGINT/SIGQUIT (quick shutdown) are left as they are.

    gunicorn then calls the app's middleware chain (``app.wsgi_app``, a bound method) directly instead of the
    Flask object, whose ``__call__`` only passes the call on: calling an object goes through C, one more
    interpreter level on the stack that every waiting request's greenlet keeps a copy of (issue 17). The
    Flask app stays on the worker as ``flask_app``."""
    from app.wiring import begin_shutdown

    app = worker.flask_app = worker.wsgi  # the Flask app wsgi.py built in this worker
    worker.wsgi = getattr(app, "wsgi_app", app)  # (gunicorn's own error app, with --reload, has none)
    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        begin_shutdown(app)
        if callable(gunicorn_handler):
            gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn had it: do not break system calls in flight


def worker_exit(server: Any, worker: Any) -> None:
    """In the worker, once it stopped serving: async requests still waiting for a slot are refused by the
    shutdown notice and recorded as such, and a submit on its way is recorded with its history id, before the
    process ends (at most a few seconds: the master kills it when its graceful window is over)."""
    from app.wiring import drain_deferred

    drain_deferred(worker.flask_app, timeout=min(10.0, max(1.0, graceful_timeout / 3)))


# Metrics of several workers: prometheus-client's multiprocess mode (app/metrics.py). The directory is set in
# the master's environment before any worker starts (the workers import prometheus-client after the fork).
_metrics_dir = _settings.prometheus_multiproc_dir
_made_metrics_dir = False
if not _metrics_dir and _settings.web_concurrency > 1:
    _metrics_dir, _made_metrics_dir = tempfile.mkdtemp(prefix="jimeng-api-metrics-"), True
if _metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server: Any) -> None:
    """Once, in the master before the first worker: the metrics directory exists and holds no stale files
    (values of an earlier run's processes would be added to this run's)."""
    if _metrics_dir:
        directory = Path(_metrics_dir)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink(missing_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """A worker ended (or was killed): its live gauges leave the sum (prometheus-client's multiprocess mode)."""
    if _metrics_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """The master stops: a metrics directory it made for this run goes with it."""
    if _made_metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
