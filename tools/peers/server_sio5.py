"""Scenario server on python-socketio 5 (AsyncServer on aiohttp, Engine.IO v4 / Socket.IO v5).

Binds 127.0.0.1 (port 0 = any free port by default), prints ``READY <port>`` once listening
and serves until SIGTERM/SIGINT; with ``--certfile``/``--keyfile`` it serves https/wss; with
``--serializer msgpack`` it speaks the msgpack parser (each packet one binary msgpack message). Everything a client observes is deterministic (no sids).

Scenario, on both ``/`` and ``/admin`` (``/admin`` needs auth ``{"token": "secret"}``):
  connect            emits ``welcome`` {"namespace", "auth"} (``--no-echo-auth``: {"namespace"});
                     bad auth on /admin -> CONNECT_ERROR
  echo *args         ack with the same args
  notify data        emits ``notified`` data (no ack; ``--changed``: with "changed": true)
  binary a, b        emits ``binary-back`` a, b; ack ``[[a, b], 2]`` (2 attachments)
  server-ack-request emits ``need-ack`` data with a callback, then ``got-client-ack`` [answer...]
  join {room}        joins the room; ack "joined", room
  shout {room, msg}  broadcasts ``shouted`` {room, msg} to the room (sender included)
  bye                the server disconnects the client from this namespace
"""
import argparse
import asyncio
import signal
import ssl

import socketio
from aiohttp import web

NAMESPACES = ('/', '/admin')
GOOD_AUTH = {'token': 'secret'}


def register(sio, ns, echo_auth=True, changed=False):
    """Install the scenario handlers on namespace ``ns``."""

    async def connect(sid, environ, auth=None):
        if ns == '/admin' and auth != GOOD_AUTH:
            raise socketio.exceptions.ConnectionRefusedError('Not authorized')
        welcome = {'namespace': ns, 'auth': auth} if echo_auth else {'namespace': ns}
        await sio.emit('welcome', welcome, to=sid, namespace=ns)

    async def echo(sid, *args):
        return args

    async def notify(sid, data):
        if changed and isinstance(data, dict):
            data = {**data, 'changed': True}
        await sio.emit('notified', data, to=sid, namespace=ns)

    async def binary(sid, first, second):
        await sio.emit('binary-back', (first, second), to=sid, namespace=ns)
        return [first, second], 2

    async def server_ack_request(sid, data):
        async def on_client_ack(*answer):
            await sio.emit('got-client-ack', list(answer), to=sid, namespace=ns)
        await sio.emit('need-ack', data, to=sid, namespace=ns, callback=on_client_ack)

    async def join(sid, data):
        await sio.enter_room(sid, data['room'], namespace=ns)
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
    sio = socketio.AsyncServer(async_mode='aiohttp', ping_interval=args.ping_interval,
                               serializer=args.serializer)
    for ns in NAMESPACES:
        register(sio, ns, echo_auth=not args.no_echo_auth, changed=args.changed)
    middlewares = []
    if args.set_cookie:
        @web.middleware
        async def set_cookie(request, handler):
            response = await handler(request)
            response.headers.add('Set-Cookie', args.set_cookie)
            return response
        middlewares.append(set_cookie)
    app = web.Application(middlewares=middlewares)
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    ssl_context = None
    if args.certfile:
        ssl_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ssl_context.load_cert_chain(args.certfile, args.keyfile)
    site = web.TCPSite(runner, args.host, args.port, ssl_context=ssl_context)
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
    parser.add_argument('--certfile', help='PEM certificate: serve over TLS')
    parser.add_argument('--keyfile', help='PEM private key of --certfile')
    parser.add_argument('--no-echo-auth', action='store_true',
                        help='welcome carries only the namespace, not the CONNECT auth (secrets tests)')
    parser.add_argument('--set-cookie', help='add this Set-Cookie header to every HTTP response')
    parser.add_argument('--changed', action='store_true',
                        help='a changed server for replay run tests: notified carries "changed": true')
    parser.add_argument('--serializer', choices=['default', 'msgpack'], default='default',
                        help="the Socket.IO parser: msgpack = socket.io-msgpack-parser's encoding")
    asyncio.run(main(parser.parse_args()))
