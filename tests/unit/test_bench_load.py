"""bench/load.py's capped row: its figures (wait quantiles from /metrics' histogram, 1010s, peak running),
its targets, and its arguments; no service is started here."""

from __future__ import annotations

from bench import load


def test_histogram_quantiles_interpolate_within_the_bucket_like_prometheus() -> None:
    buckets = {1.0: 0.0, 2.5: 50.0, 5.0: 90.0, 10.0: 100.0, float("inf"): 100.0}
    assert load.histogram_quantile(buckets, 0.5) == 2.5
    assert load.histogram_quantile(buckets, 0.25) == 1.75
    assert load.histogram_quantile(buckets, 0.95) == 7.5
    assert load.histogram_quantile({1.0: 0.0, float("inf"): 0.0}, 0.5) is None
    assert load.histogram_quantile({1.0: 0.0, float("inf"): 4.0}, 0.5) == 1.0  # above the last bound


def test_capped_figures_count_only_the_burst_and_its_own_sessions() -> None:
    before = {"refusals": {"concurrency_limit": 3}, "peak_running": {}}
    after = {"refusals": {"concurrency_limit": 3}, "peak_running": {"a": 2, "b": 1, "other-row": 9}}
    waits = {0.05: 10.0, 1.0: 10.0, float("inf"): 10.0}
    figures = load.capped_figures(before, after, ["a", "b"], waits, {0.05: 10.0, 1.0: 30.0, float("inf"): 30.0})
    assert figures["upstream_1010"] == 0 and figures["peak_running_max"] == 2
    assert figures["metrics_wait"]["count"] == 20 and figures["metrics_wait"]["buckets"]["1"] == 20


def test_the_capped_row_turns_the_caps_on_and_checks_them() -> None:
    args = load.parse_args(["--capped-only"])
    (row,) = load.scenarios(args)
    assert row.capped and row.count == 1000
    assert load.service_overrides(row.count, capped=True)["SESSION_CONCURRENCY"] == "2"
    assert "SESSION_CONCURRENCY" not in load.service_overrides(row.count)  # the harness keeps 0 for the others
    assert [s.capped for s in load.scenarios(load.parse_args([]))][-1]
    assert not any(s.capped for s in load.scenarios(load.parse_args(["--quick"])))
    result = {"succeeded": 1000, "rss": {"peak_mib": 100.0}, "capped": {"upstream_1010": 1, "peak_running_max": 2}}
    checks = load.targets(result, row)
    assert checks["all_succeed"]["pass"] and not checks["no_1010"]["pass"] and checks["cap_kept"]["pass"]
