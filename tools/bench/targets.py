"""Issue 17's targets ("Performance"), as ratios to nginx in the same run, and the figures they are checked on.
One place for tools/bench/report.py (one run) and tools/bench/median.py (several runs)."""
import statistics

MITMPROXY_BYTES_PER_MSG = 346  # issue 6: mitmdump -w on the same workload
THROUGHPUT_MIN = 0.95  # WebSocket and polling, at saturation
CPU_MAX_MODERATE = 1.5  # CPU per msg, recording on, at moderate (rate-limited) load
CPU_MAX_SATURATION = 2.0
ADDED_LATENCY_SLACK_US = 10  # added latency at one connection: at most nginx's + 10 µs, p50 and p99
RECORDED_MAX = 0.25  # recorded bytes per msg, of mitmproxy's
IDLE_KB_MAX = 16  # issue 6: memory per idle WebSocket session (issue 17 sets none)


def cpu_us_per_msg(r, hz):
    """The proxy's CPU (utime+stime) over a load run divided by its messages; None for the direct run."""
    if not r or r["cpu_ticks"] == 0 and r["target"] == "direct":
        return None
    return r["cpu_ticks"] / hz * 1e6 / max(1, r["load"]["total_msgs"])


def latency_rounds(rows):
    """The one-connection latency runs of one tools/bench/run, as {round: {target: row}}. Runs made before
    the rounds existed have one round."""
    rounds = {}
    for r in rows:
        if r["kind"] == "load" and r["name"] == "latency1":
            rounds.setdefault(r.get("round", 1), {})[r["target"]] = r
    return rounds


def median_over_rounds(rounds, figure):
    """The median over rounds of figure(round's {target: row}), leaving out rounds where it is None."""
    values = [v for v in (figure(targets) for targets in rounds.values()) if v is not None]
    return statistics.median(values) if values else None


def added_over_nginx(targets, percentile):
    """In one round: siotape's added latency minus nginx's, µs (both over the round's direct run)."""
    d, n, s = (targets.get(t) for t in ("direct", "nginx", "siotape"))
    if not d or not n or not s:
        return None
    key = f"{percentile}_us"
    return (s["load"][key] - d["load"][key]) - (n["load"][key] - d["load"][key])
