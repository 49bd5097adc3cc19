#!/usr/bin/env python3
"""CPU time (utime + stime, clock ticks) of a process and all its descendants, by kind (not a test).

    tree_cpu.py PID    prints {"renderer": ticks, "gpu-process": ticks, "browser": ticks, "other": ticks}

Used by tools/bench/view to say where a following page's CPU goes: chromium's processes are told
apart by their --type= argument (the browser process has none); Playwright's driver and Python are
"other".
"""
import json
import os
import sys


def main():
    root = int(sys.argv[1])
    children, stats = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                # Chromium rewrites its title: the whole command line can be in one argument.
                argv = f.read().replace(b"\0", b" ").split()
        except OSError:
            continue
        pid = int(name)
        children.setdefault(int(fields[1]), []).append(pid)
        kind = "other"
        if argv and b"chrom" in os.path.basename(argv[0]):
            kind = "browser"
            for arg in argv:
                if arg.startswith(b"--type="):
                    kind = arg[7:].decode()
        stats[pid] = (kind, int(fields[11]) + int(fields[12]))
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            kind, ticks = stats[pid]
            out[kind] = out.get(kind, 0) + ticks
        todo.extend(children.get(pid, []))
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
