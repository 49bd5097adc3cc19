#!/usr/bin/env python3
"""What compressing a recording costs, alone: inflates RECORDING, then deflates its lines again as
RecordingWriter does (gzip members of 256 KiB at zlib LEVEL, the system libz that siotape links too),
timing only that, best of 3. Divided by MESSAGES, it is the part of a capture's CPU per message
that no change to decoding or encoding can remove while the recording is zlib at that level.

usage: siotape-bench capture --keep /tmp/cap.siotape.gz   (prints "messages")
       tools/bench/compression_floor.py /tmp/cap.siotape.gz MESSAGES [LEVEL...]   (default level 3)
"""
import gzip
import sys
import time
import zlib

if len(sys.argv) < 3:
    sys.exit(__doc__)
data = gzip.open(sys.argv[1]).read()
messages = int(sys.argv[2])
chunk = 256 * 1024
for level in [int(x) for x in sys.argv[3:]] or [3]:
    best, out = None, 0
    for _ in range(3):
        start = time.process_time()
        out = 0
        for i in range(0, len(data), chunk):
            deflater = zlib.compressobj(level, zlib.DEFLATED, 31, 8)
            out += len(deflater.compress(data[i:i + chunk])) + len(deflater.flush())
        elapsed = time.process_time() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"level {level}: {best * 1e9 / messages:.0f} ns/msg CPU, {out / messages:.1f} compressed B/msg, "
          f"{len(data) / messages:.0f} uncompressed B/msg")
