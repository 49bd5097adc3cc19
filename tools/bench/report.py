"""Renders the results of tools/bench/run (JSON lines) as the markdown tables of RESULTS.md, with issue 17's
targets and, per line, whether this run met them.

    python3 tools/bench/report.py RESULTS.jsonl --command "tools/bench/run ..." [--hz 100] [--threads N]

tools/bench/run keeps its last results in /tmp/siotape-bench-results.jsonl (SIOTAPE_BENCH_RESULTS), so a
run can be rendered again."""
import argparse
import datetime
import json
import os
import platform
import subprocess

from targets import (
    ADDED_LATENCY_SLACK_US,
    CPU_MAX_MODERATE,
    CPU_MAX_SATURATION,
    IDLE_KB_MAX,
    MITMPROXY_BYTES_PER_MSG,
    RECORDED_MAX,
    THROUGHPUT_MIN,
    added_over_nginx,
    cpu_us_per_msg as cpu_of,
    latency_rounds,
    median_over_rounds,
)

parser = argparse.ArgumentParser()
parser.add_argument("results")
parser.add_argument("--command", required=True)
parser.add_argument("--hz", type=int, default=100)
parser.add_argument("--threads", default="?", help="event-loop threads of siotape and the NIO relay")
args = parser.parse_args()

rows = [json.loads(line) for line in open(args.results) if line.strip()]
loads = {(r["target"], r["name"]): r for r in rows if r["kind"] == "load"}
idles = {(r["target"], r["n"]): r for r in rows if r["kind"] == "idle"}
soaks = [r for r in rows if r["kind"] == "soak"]


def cpu_us_per_msg(r):
    return cpu_of(r, args.hz)


def fmt(value, digits=0):
    if value is None:
        return "—"
    return f"{value:,.{digits}f}"


def ratio(a, b, digits=2):
    if a is None or b is None or b == 0:
        return "—"
    return f"{a / b:.{digits}f}×"


VERDICTS = []  # (target, met) of every line with a target, for the summary


def verdict(label, met):
    """`met`/`**not met**` for a target, or `—` when the run has no figure for it."""
    if met is None:
        return "—"
    VERDICTS.append((label, met))
    return "met" if met else "**not met**"


def at_most(a, b, limit):
    return None if a is None or b is None or b == 0 else a / b <= limit


def at_least(a, b, limit):
    return None if a is None or b is None or b == 0 else a / b >= limit


def machine():
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    nginx = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr.strip()
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({model}), {mem:.0f} GiB; {nginx}"


out = []
out.append(f"Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC  ")
out.append(f"Machine: {machine()}  ")
out.append(f"Command: `{args.command}`  ")
out.append(f"Event-loop threads of siotape record and the NIO relay: {args.threads}  ")
out.append("Targets: issue 17's, as ratios to nginx in the same run; the verdict is this run's.")
out.append("")

for name, title in [("websocket", "WebSocket"), ("moderate", "WebSocket, moderate load"), ("polling", "long-polling")]:
    d, n, r, s = (loads.get((t, name)) for t in ("direct", "nginx", "relay", "siotape"))
    if not (d and n and s):
        continue
    c = n["load"]["connections"], n["load"]["window"]
    rate = n["load"].get("rate", 0)
    pace = f", rate-limited to {rate:,} msgs/s" if rate else ""
    out.append(f"### {title}: {c[0]} connections × {c[1]} in flight{pace}, 100-byte payload, msg = EVENT + ACK")
    out.append("")
    out.append("NIO relay: `siotape-bench relay`, bytes copied on SwiftNIO with siotape's threads and backpressure, "
               "nothing parsed or recorded (the floor of a NIO proxy).")
    out.append("")
    out.append("| figure | direct | nginx | NIO relay | siotape record | siotape / nginx | NIO relay / nginx | target | verdict |")
    out.append("|---|---|---|---|---|---|---|---|---|")

    def row(label, values, target="", met=None, digits=0):
        v = dict(zip(("d", "n", "r", "s"), values))
        short = label.split(",")[0]
        out.append(f"| {label} | {fmt(v['d'], digits)} | {fmt(v['n'], digits)} | {fmt(v['r'], digits)} | "
                   f"{fmt(v['s'], digits)} | {ratio(v['s'], v['n'])} | {ratio(v['r'], v['n'])} | {target} | "
                   f"{verdict(f'{title}: {short} {target} nginx', met) if target else ''} |")

    def get(res, f):
        return f(res) if res else None

    saturated = not rate
    throughput = [get(x, lambda x: x["load"]["msgs_per_s"]) for x in (d, n, r, s)]
    if saturated:
        row("throughput, msgs/s", throughput, f"≥ {THROUGHPUT_MIN}×", at_least(throughput[3], throughput[1], THROUGHPUT_MIN))
    else:
        # Rate-limited: every target should reach the rate; throughput is not a target here.
        row("throughput, msgs/s", throughput)
    for p in ("p50", "p99", "p999"):
        row(f"latency {p}, µs", [get(x, lambda x: x["load"][f"{p}_us"]) for x in (d, n, r, s)])
    cpu = [None] + [cpu_us_per_msg(x) for x in (n, r, s)]
    cpu_max = CPU_MAX_SATURATION if saturated else CPU_MAX_MODERATE
    row("proxy CPU, µs/msg (utime+stime)", cpu, f"≤ {cpu_max}×", at_most(cpu[3], cpu[1], cpu_max), 1)
    row("proxy peak RSS, MiB", [None] + [get(x, lambda x: x["hwm_kb"] / 1024) for x in (n, r, s)], digits=1)
    if s["rec_bytes"]:
        b = s["rec_bytes"] / max(1, s["load"]["total_msgs"])
        target = f"≤ {RECORDED_MAX}× mitmproxy"
        out.append(
            f"| recorded bytes/msg | — | — | — | {fmt(b, 1)} | {b / MITMPROXY_BYTES_PER_MSG:.2f}× mitmproxy's "
            f"{MITMPROXY_BYTES_PER_MSG} | | {target} | "
            f"{verdict(f'{title}: recorded bytes/msg {target}', b / MITMPROXY_BYTES_PER_MSG <= RECORDED_MAX)} |")
    f = loads.get(("floor", name))
    bad = [x["target"] for x in (d, n, r, f, s) if x and (x["load"]["failures"] or not x["load"]["drained"])]
    if bad:
        out.append(f"| failures | {', '.join(bad)} | | | | | | | |")
    if f:
        out.append("")
        fb = f["rec_bytes"] / max(1, f["load"]["total_msgs"])
        out.append(f"Recording floor (`siotape-bench relay --lines`: the NIO relay writing, for every WebSocket message it relays, a line of a recording of this "
                   f"load, compressed as siotape compresses, nothing decoded or encoded): "
                   f"{fmt(f['load']['msgs_per_s'])} msgs/s = {ratio(f['load']['msgs_per_s'], throughput[1])} nginx's, "
                   f"{fmt(cpu_us_per_msg(f), 1)} µs/msg = {ratio(cpu_us_per_msg(f), cpu[1])} nginx's CPU, "
                   f"{fmt(fb, 1)} recorded B/msg"
                   + (f", {f['rec_records'] / max(1, f['load']['total_msgs']):.2f} lines per message (2 expected: "
                      "the EVENT's and the ACK's)" if f.get("rec_records") else "") + ".")
    if rate and s and s["load"]["msgs_per_s"] < 0.95 * rate:
        out.append("")
        out.append(f"siotape reached {s['load']['msgs_per_s']:,} of the {rate:,} msgs/s asked: this was not the "
                   "unsaturated regime the moderate-load CPU target means.")
    out.append("")

rounds = latency_rounds(rows)
if rounds:
    names = ("direct", "nginx", "relay", "siotape")
    out.append(f"### Latency at 1 connection, 1 in flight (WebSocket), median of {len(rounds)} alternated rounds")
    out.append("")
    out.append("| figure | direct | nginx | NIO relay | siotape record | siotape / nginx | NIO relay / nginx | target | verdict |")
    out.append("|---|---|---|---|---|---|---|---|---|")

    def of(target, figure):
        """The median over rounds of figure(target's row, the round's direct row)."""
        return median_over_rounds(rounds, lambda t: figure(t[target], t.get("direct")) if target in t else None)

    for p in ("p50", "p99"):
        key = f"{p}_us"
        v = [of(t, lambda x, d: x["load"][key]) for t in names]
        out.append(f"| {p}, µs | {fmt(v[0])} | {fmt(v[1])} | {fmt(v[2])} | {fmt(v[3])} | {ratio(v[3], v[1])} | {ratio(v[2], v[1])} | | |")
        added = [of(t, lambda x, d: x["load"][key] - d["load"][key] if d else None) for t in names[1:]]
        over = median_over_rounds(rounds, lambda t: added_over_nginx(t, p))
        target = f"≤ nginx + {ADDED_LATENCY_SLACK_US} µs"
        met = None if over is None else over <= ADDED_LATENCY_SLACK_US
        out.append(f"| added {p}, µs | — | {fmt(added[0])} | {fmt(added[1])} | {fmt(added[2])} | "
                   f"{ratio(added[2], added[0])} | {ratio(added[1], added[0])} | {target} | "
                   f"{verdict(f'1 connection: added {p} {target}', met)} |")
        per_round = ", ".join(fmt(added_over_nginx(t, p)) for t in rounds.values())
        out.append(f"| siotape's added {p} over nginx's, per round, µs | | | | {per_round} | median {fmt(over)} | | | |")
    cpu = [of(t, lambda x, d: cpu_us_per_msg(x)) for t in names[1:]]
    out.append(f"| proxy CPU, µs/msg | — | {fmt(cpu[0], 1)} | {fmt(cpu[1], 1)} | {fmt(cpu[2], 1)} | "
               f"{ratio(cpu[2], cpu[0])} | {ratio(cpu[1], cpu[0])} | | |")
    out.append("")

chat = loads.get(("siotape", "chat"))
if chat:
    b = chat["rec_bytes"] / max(1, chat["load"]["total_msgs"])
    out.append("### Recorded bytes, realistic payload (varied JSON chat messages, avg ~150 B)")
    out.append("")
    out.append("| figure | siotape record | vs mitmproxy (346 B/msg, issue 6) | target | verdict |")
    out.append("|---|---|---|---|---|")
    target = f"≤ {RECORDED_MAX}×"
    out.append(f"| recorded bytes/msg (EVENT + ACK records, gzip) | {fmt(b, 1)} | {b / MITMPROXY_BYTES_PER_MSG:.2f}× | "
               f"{target} | {verdict(f'chat payload: recorded bytes/msg {target} mitmproxy', b / MITMPROXY_BYTES_PER_MSG <= RECORDED_MAX)} |")
    out.append(f"| throughput, msgs/s | {fmt(chat['load']['msgs_per_s'])} | | | |")
    out.append(f"| proxy CPU, µs/msg | {fmt(cpu_us_per_msg(chat), 1)} | | | |")
    out.append("")

counts = sorted({n for (_, n) in idles})
if counts:
    out.append("### Idle WebSocket sessions (Engine.IO + namespace connected, then idle)")
    out.append("")
    out.append("| sessions opened | nginx KB/session | siotape KB/session | siotape / nginx | sessions held (nginx, siotape) | target (issue 6) | verdict |")
    out.append("|---|---|---|---|---|---|---|")
    for count in counts:
        n, s = idles.get(("nginx", count)), idles.get(("siotape", count))
        per = [(r["rss1_kb"] - r["rss0_kb"]) / r["held"] if r and r["held"] else None for r in (n, s)]
        held = ", ".join(f"{r['held']:,}" if r else "—" for r in (n, s))
        met = None if per[1] is None else per[1] <= IDLE_KB_MAX
        out.append(f"| {count:,} | {fmt(per[0], 1)} | {fmt(per[1], 1)} | {ratio(per[1], per[0])} | {held} | "
                   f"≤ {IDLE_KB_MAX} KB | {verdict(f'{count:,} idle sessions: ≤ {IDLE_KB_MAX} KB/session', met)} |")
    out.append("")

for soak in soaks:
    samples = soak["samples"]
    out.append(f"### Memory over a busy session: siotape record, {soak['seconds']} s of chat load")
    out.append("")
    out.append(f"{soak['load']['total_msgs']:,} msgs, {soak['load']['msgs_per_s']:,} msgs/s; RSS (KiB) every "
               f"{samples[1][0] - samples[0][0] if len(samples) > 1 else 0} s: " + ", ".join(str(kb) for _, kb in samples))
    if len(samples) > 3:
        third = len(samples) // 3
        early, late = samples[third][1], samples[-1][1]
        out.append(f"\nFrom {samples[third][0]} s to the end: {late - early:+,} KiB.")
    out.append("")

if VERDICTS:
    missed = [label for label, met in VERDICTS if not met]
    out.append(f"### Targets: {len(VERDICTS) - len(missed)} of {len(VERDICTS)} met in this run")
    out.append("")
    for label in missed:
        out.append(f"- not met: {label}")
    if missed:
        out.append("")

print("\n".join(out))
