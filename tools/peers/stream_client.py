"""Endless stream of acknowledged events, for the crash-safety tests (python-socketio 5 Client).

    stream_client.py --url http://127.0.0.1:PORT [--count N]

Connects to ``server_sio5.py`` over WebSocket only, then emits ``echo`` with the sequence numbers
1, 2, 3, ... one at a time, each with an ack (``sio.call``), and prints ``ACKED <n>`` (flushed) as
soon as the ack of event n has arrived. After ``--count`` events (default: no limit) it keeps the
connection open; it runs until killed. Exits 1 if an ack does not come or does not echo n.
"""
import argparse
import sys
import threading

import socketio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--count', type=int, default=0, help='events to send, 0 = until killed')
    parser.add_argument('--timeout', type=float, default=10)
    args = parser.parse_args()

    sio = socketio.Client()
    sio.connect(args.url, transports=['websocket'], wait_timeout=args.timeout)
    n = 0
    while args.count == 0 or n < args.count:
        n += 1
        answer = sio.call('echo', n, timeout=args.timeout)
        if answer != n:
            print(f'stream_client.py: ack of {n} echoed {answer!r}', file=sys.stderr)
            sys.exit(1)
        print(f'ACKED {n}', flush=True)
    threading.Event().wait()


if __name__ == '__main__':
    main()
