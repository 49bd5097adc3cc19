"""Serving helpers for the sample apps: bind 127.0.0.1, --port (0 = any free port),
print exactly one `READY <port>` line on stdout once listening, exit cleanly on SIGTERM/SIGINT."""
import argparse
import asyncio
import logging
import signal
import sys
import threading


def parse_args(description, extra=None):
    """`extra(parser)` adds an app's own options."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--port', type=int, default=0, help='TCP port on 127.0.0.1 (0 = pick a free one)')
    p.add_argument('--verbose', action='store_true', help='log requests and Socket.IO traffic to stderr')
    if extra:
        extra(p)
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    if not args.verbose:
        logging.getLogger('werkzeug').setLevel(logging.ERROR)
        logging.getLogger('aiohttp.access').setLevel(logging.WARNING)
    return args


def ready(port):
    sys.stdout.write(f'READY {port}\n')
    sys.stdout.flush()


def serve_wsgi(app, port):
    """Serve a Flask(-SocketIO, threading mode) app with Werkzeug's threaded server
    (WebSocket through simple-websocket)."""
    from werkzeug.serving import make_server
    server = make_server('127.0.0.1', port, app, threaded=True)
    stop = threading.Event()

    def on_signal(signum, frame):
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ready(server.socket.getsockname()[1])
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    sys.exit(0)


def serve_aiohttp(web_app, port, on_shutdown=None):
    """Serve an aiohttp app (python-socketio AsyncServer attached)."""
    from aiohttp import web

    async def main():
        runner = web.AppRunner(web_app, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, '127.0.0.1', port)
        await site.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for s in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(s, stop.set)
        ready(site._server.sockets[0].getsockname()[1])
        await stop.wait()
        if on_shutdown:
            await on_shutdown()
        await runner.cleanup()

    asyncio.run(main())
    sys.exit(0)
