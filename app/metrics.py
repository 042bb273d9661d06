"""``GET /metrics`` in the Prometheus text format, and the domain's ``Observer`` kept in prometheus-client.

Under gunicorn with several workers the counters live in prometheus-client's multiprocess mode: each worker
writes its values to files in ``PROMETHEUS_MULTIPROC_DIR`` (``config/gunicorn.py`` makes a per-run directory
when the operator set none, removes stale files at start and marks a dead worker's files with ``child_exit``),
and whichever worker answers a scrape adds up every worker's files. With one process the default registry is
read. The environment variable must be set before this module is first imported (prometheus-client picks its
value class at import), which the gunicorn master does before it forks the workers.

What is counted (names start with ``jimeng_api_``):

- ``requests_total{route, method, status}``: answers, by Flask route (``unmatched`` for none);
- ``generations_total{model, kind, outcome}``: each generation (one history id) that ended where someone
  followed it: ``succeeded``, ``failed``, ``timeout`` (our deadline passed), ``abandoned`` (its client left);
- ``upstream_calls_total{path, outcome}``: each HTTP exchange with Jimeng or ImageX (retries included):
  ``ok``, ``http_<status>`` or ``error`` (no answer); paths are bounded labels (``app/jimeng/transport.py``);
- ``generations_in_flight``: generations the workers poll now;
- ``queue_waiting`` and ``queue_wait_seconds``: requests waiting for a slot of the concurrency caps in this
  instance, and how long each waited for its slot;
- ``polls_per_generation``: polls until the poller saw a generation end;
- ``added_latency_seconds``: from the poll that first saw a generation finished to its complete result
  handed to the answer (downloads and re-encoding of ``b64_json`` included; writing the response not);
- ``webhook_deliveries_total{outcome}``: ``delivered``, ``retry`` (a failed attempt, tried again later),
  ``dropped`` (the last attempt failed), ``unregistered`` (the store failed when the accepted job's entry was
  written: its callback is never sent);
- ``sessions{state}``: the sessions the answering worker's account cache knows, by state (read at scrape
  time, nothing asked upstream).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from app.api.openapi import documented
from app.domain.errors import InvalidApiKeyError
from app.domain.pool import SessionPool

PREFIX = "jimeng_api_"
REQUESTS = Counter(PREFIX + "requests", "HTTP answers by route and status", ["route", "method", "status"])
GENERATIONS = Counter(
    PREFIX + "generations", "Generations that ended, by model and outcome", ["model", "kind", "outcome"]
)
UPSTREAM = Counter(PREFIX + "upstream_calls", "HTTP exchanges with Jimeng and ImageX", ["path", "outcome"])
IN_FLIGHT = Gauge(PREFIX + "generations_in_flight", "Generations being polled", multiprocess_mode="livesum")
QUEUED = Gauge(PREFIX + "queue_waiting", "Requests waiting for a concurrency slot", multiprocess_mode="livesum")
WAIT = Histogram(
    PREFIX + "queue_wait_seconds",
    "Time a request waited for its concurrency slot",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
POLLS = Histogram(
    PREFIX + "polls_per_generation", "Polls until a generation ended", buckets=(1, 2, 3, 5, 8, 13, 21, 34, 55, 89)
)
LATENCY = Histogram(
    PREFIX + "added_latency_seconds",
    "From the poll that saw a generation finished to its result handed to the answer",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOKS = Counter(PREFIX + "webhook_deliveries", "Webhook delivery attempts by outcome", ["outcome"])


class PrometheusObserver:
    """The domain's Observer (app/domain/observe.py), kept in the metrics above."""

    def generation_ended(self, *, model: str, kind: str, outcome: str) -> None:
        GENERATIONS.labels(model=model, kind=kind, outcome=outcome).inc()

    def polls(self, count: int) -> None:
        POLLS.observe(count)

    def added_latency(self, seconds: float) -> None:
        LATENCY.observe(seconds)

    def in_flight(self, count: int) -> None:
        IN_FLIGHT.set(count)

    def queued(self, delta: int) -> None:
        QUEUED.inc(delta)

    def waited(self, seconds: float) -> None:
        WAIT.observe(seconds)

    def upstream_call(self, path: str, outcome: str) -> None:
        UPSTREAM.labels(path=path, outcome=outcome).inc()

    def webhook(self, outcome: str) -> None:
        WEBHOOKS.labels(outcome=outcome).inc()


class SessionCensus(Collector):
    """``sessions{state}`` from the pool's cache at scrape time."""

    def __init__(self, pool: SessionPool) -> None:
        self._pool = pool

    def collect(self) -> list[GaugeMetricFamily]:
        family = GaugeMetricFamily(PREFIX + "sessions", "Sessions known to this worker, by state", labels=["state"])
        for state, count in sorted(self._pool.census().items()):
            family.add_metric([state], count)
        return [family]


bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@documented(summary="Prometheus metrics (Bearer METRICS_TOKEN when the operator set one)", response="text/plain",
            errors=("401",))  # fmt: skip
def scrape() -> Response:
    token = current_app.config["SETTINGS"].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            raise InvalidApiKeyError("GET /metrics needs the metrics token (METRICS_TOKEN) as a Bearer token")
    directory = current_app.config["SETTINGS"].prometheus_multiproc_dir
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
        text = generate_latest(registry)
    else:
        text = generate_latest(REGISTRY)
    census = CollectorRegistry()
    census.register(SessionCensus(current_app.extensions["generation"].pool))
    headers = {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
    return Response(text + generate_latest(census), headers=headers)


def register_metrics(app: Flask) -> None:
    """``/metrics`` and the count of every answer by route and status."""

    def count(response: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        REQUESTS.labels(route=rule, method=request.method, status=str(response.status_code)).inc()
        return response

    app.after_request(count)
    app.register_blueprint(bp)
