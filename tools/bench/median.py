"""Issue 17's targets over several runs of tools/bench/run: each run's figure (against nginx in that same run)
and their median, with the verdict taken on the median. On a shared machine one run decides little: the same
binaries have moved by a third between two runs minutes apart (RESULTS.md, session 11).

    python3 tools/bench/median.py [--hz 100] RESULTS.jsonl...

tools/bench/repeat runs tools/bench/run N times and calls this on their results."""
import argparse
import json
import statistics

from targets import (
    ADDED_LATENCY_SLACK_US,
    CPU_MAX_MODERATE,
    CPU_MAX_SATURATION,
    THROUGHPUT_MIN,
    added_over_nginx,
    cpu_us_per_msg,
    latency_rounds,
    median_over_rounds,
)

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("results", nargs="+")
parser.add_argument("--hz", type=int, default=100)
args = parser.parse_args()


def loads_of(path):
    """One run's loads by (target, name); its one-connection latency rounds under "latency rounds"."""
    rows = [json.loads(line) for line in open(path) if line.strip()]
    loads = {(r["target"], r["name"]): r for r in rows if r["kind"] == "load"}
    loads["latency rounds"] = latency_rounds(rows)
    return loads


def throughput_ratio(loads, name, target="siotape"):
    s, n = loads.get((target, name)), loads.get(("nginx", name))
    if not s or not n or not n["load"]["msgs_per_s"]:
        return None
    return s["load"]["msgs_per_s"] / n["load"]["msgs_per_s"]


def cpu_ratio(loads, name, target="siotape"):
    s, n = (cpu_us_per_msg(loads.get((t, name)), args.hz) for t in (target, "nginx"))
    return None if s is None or not n else s / n


# (figure, how it is computed from one run's loads, "max" or "min", the limit, the unit)
FIGURES = [
    ("WebSocket saturation: throughput / nginx", lambda l: throughput_ratio(l, "websocket"), "min", THROUGHPUT_MIN, "×"),
    ("WebSocket saturation: CPU per msg / nginx", lambda l: cpu_ratio(l, "websocket"), "max", CPU_MAX_SATURATION, "×"),
    ("WebSocket moderate load: CPU per msg / nginx", lambda l: cpu_ratio(l, "moderate"), "max", CPU_MAX_MODERATE, "×"),
    ("long-polling saturation: throughput / nginx", lambda l: throughput_ratio(l, "polling"), "min", THROUGHPUT_MIN, "×"),
    ("long-polling saturation: CPU per msg / nginx", lambda l: cpu_ratio(l, "polling"), "max", CPU_MAX_SATURATION, "×"),
    # Each run's figure is the median over its rounds of the round's difference.
    ("1 connection: added p50 over nginx's",
     lambda l: median_over_rounds(l["latency rounds"], lambda t: added_over_nginx(t, "p50")), "max", ADDED_LATENCY_SLACK_US, " µs"),
    ("1 connection: added p99 over nginx's",
     lambda l: median_over_rounds(l["latency rounds"], lambda t: added_over_nginx(t, "p99")), "max", ADDED_LATENCY_SLACK_US, " µs"),
]


def show(value, unit):
    if value is None:
        return "—"
    return f"{value:.2f}×" if unit == "×" else f"{value:+.0f} µs"


def meets(value, bound, limit):
    return value >= limit if bound == "min" else value <= limit


runs = [loads_of(path) for path in args.results]
header = " | ".join(f"run {i + 1}" for i in range(len(runs)))
print(f"### Issue 17's targets over {len(runs)} runs (each against nginx in its own run)")
print()
print(f"| figure | {header} | median | target | runs that met it | verdict on the median |")
print(f"|---|{'---|' * len(runs)}---|---|---|---|")
for label, figure, bound, limit, unit in FIGURES:
    values = [figure(loads) for loads in runs]
    present = [v for v in values if v is not None]
    if not present:
        continue
    median = statistics.median(present)
    target = f"{'≥' if bound == 'min' else '≤'} {limit}{unit if unit == '×' else ' µs'}"
    met = sum(meets(v, bound, limit) for v in present)
    verdict = "met" if meets(median, bound, limit) else "**not met**"
    cells = " | ".join(show(v, unit) for v in values)
    print(f"| {label} | {cells} | {show(median, unit)} | {target} | {met} of {len(present)} | {verdict} |")

# What proxies that do less reach in the same runs (no target): the NIO relay, and with --floor the
# recording floor, the relay that also compresses a recording's line per message.
FLOORS = [
    ("NIO relay: WebSocket saturation throughput / nginx", lambda l: throughput_ratio(l, "websocket", "relay")),
    ("NIO relay: WebSocket saturation CPU per msg / nginx", lambda l: cpu_ratio(l, "websocket", "relay")),
    ("recording floor: WebSocket saturation throughput / nginx", lambda l: throughput_ratio(l, "websocket", "floor")),
    ("recording floor: WebSocket saturation CPU per msg / nginx", lambda l: cpu_ratio(l, "websocket", "floor")),
]
floor_rows = []
for label, figure in FLOORS:
    values = [figure(loads) for loads in runs]
    present = [v for v in values if v is not None]
    if present:
        cells = " | ".join(show(v, "×") for v in values)
        floor_rows.append(f"| {label} | {cells} | {show(statistics.median(present), '×')} |")
if floor_rows:
    print()
    print(f"| proxies that do less (no target) | {header} | median |")
    print(f"|---|{'---|' * len(runs)}---|")
    print("\n".join(floor_rows))
