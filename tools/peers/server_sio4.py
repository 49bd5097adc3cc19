"""Scenario server on python-socketio 4.6 (AsyncServer on aiohttp, Engine.IO v3 / Socket.IO v4).

Same scenario and options as ``server_sio5.py``. Socket.IO v4 has no CONNECT payload, so the auth
of ``/admin`` is the connection query (``?token=secret``); a refusal is an ERROR packet
(``44/admin,"Not authorized"``). ``welcome`` carries ``{"token": ...}`` from the query as its auth.

python-socketio 4.x passes coroutines to ``asyncio.wait`` (room broadcasts, shutdown), which
Python 3.11 forbids; the shim below wraps them in tasks.
"""
import argparse
import asyncio
import signal
from urllib.parse import parse_qs

import socketio
from aiohttp import web

NAMESPACES = ('/', '/admin')
GOOD_AUTH = {'token': 'secret'}

_asyncio_wait = asyncio.wait


async def _wait_wrapping_coroutines(fs, *args, **kwargs):
    return await _asyncio_wait([asyncio.ensure_future(f) for f in fs], *args, **kwargs)

asyncio.wait = _wait_wrapping_coroutines


def register(sio, ns):
    """Install the scenario handlers on namespace ``ns``."""

    async def connect(sid, environ):
        token = parse_qs(environ.get('QUERY_STRING', '')).get('token')
        auth = {'token': token[0]} if token else None
        if ns == '/admin' and auth != GOOD_AUTH:
            raise socketio.exceptions.ConnectionRefusedError('Not authorized')
        await sio.emit('welcome', {'namespace': ns, 'auth': auth}, room=sid, namespace=ns)

    async def echo(sid, *args):
        return args

    async def notify(sid, data):
        await sio.emit('notified', data, room=sid, namespace=ns)

    async def binary(sid, first, second):
        await sio.emit('binary-back', (first, second), room=sid, namespace=ns)
        return [first, second], 2

    async def server_ack_request(sid, data):
        async def on_client_ack(*answer):
            await sio.emit('got-client-ack', list(answer), room=sid, namespace=ns)
        await sio.emit('need-ack', data, room=sid, namespace=ns, callback=on_client_ack)

    async def join(sid, data):
        sio.enter_room(sid, data['room'], namespace=ns)
        return 'joined', data['room']

    async def shout(sid, data):
        await sio.emit('shouted', data, room=data['room'], namespace=ns)

    async def bye(sid, *args):
        await sio.disconnect(sid, namespace=ns)

    for name, handler in [('connect', connect), ('echo', echo), ('notify', notify),
                          ('binary', binary), ('server-ack-request', server_ack_request),
                          ('join', join), ('shout', shout), ('bye', bye)]:
        sio.on(name, handler, namespace=ns)


async def main(args):
    sio = socketio.AsyncServer(async_mode='aiohttp', ping_interval=args.ping_interval)
    for ns in NAMESPACES:
        register(sio, ns)
    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f'READY {runner.addresses[0][1]}', flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--ping-interval', type=float, default=25)
    asyncio.run(main(parser.parse_args()))
