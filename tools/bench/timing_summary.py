"""Summarises timing errors for tools/bench/replay-timing and serve-timing, with the machine's own baseline.

    timing_summary.py LABEL RAW_FILE

RAW_FILE holds one error per line in nanoseconds (signed). Prints |error| p50/p99/max over all of
them, then the same figures for a plain ``time.sleep`` of a similar gap measured right now: the
scheduling noise no player can beat on this machine at this moment.
"""
import random
import sys
import time


def summary(label, errors):
    values = sorted(abs(e) for e in errors)
    if not values:
        print(f'{label}: no samples')
        return
    q = lambda f: values[min(len(values) - 1, round((len(values) - 1) * f))] / 1e6
    print(f'{label}: {len(values)} samples, |error| p50 {q(0.5):.3f} ms, p99 {q(0.99):.3f} ms, max {q(1):.3f} ms')


def main():
    label, path = sys.argv[1], sys.argv[2]
    with open(path) as source:
        summary(label, [int(x) for x in source.read().split()])
    errors = []
    for _ in range(1000):
        gap = random.uniform(0.0005, 0.005)
        start = time.perf_counter_ns()
        time.sleep(gap)
        errors.append(time.perf_counter_ns() - start - int(gap * 1e9))
    summary('baseline time.sleep', errors)


if __name__ == '__main__':
    main()
