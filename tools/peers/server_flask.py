"""Scenario server on Flask-SocketIO 5 (threading mode, WebSocket via simple-websocket; EIO v4).

Same scenario and options as ``server_sio5.py``, served by Werkzeug's threaded server on
127.0.0.1 (port 0 by default); prints ``READY <port>`` once listening, stops on SIGTERM/SIGINT.
"""
import argparse
import logging
import signal
import sys

from flask import Flask, request
from flask_socketio import ConnectionRefusedError, SocketIO, disconnect, emit, join_room
from werkzeug.serving import make_server

NAMESPACES = ('/', '/admin')
GOOD_AUTH = {'token': 'secret'}


def register(socketio, ns):
    """Install the scenario handlers on namespace ``ns``."""

    def connect(auth=None):
        if ns == '/admin' and auth != GOOD_AUTH:
            raise ConnectionRefusedError('Not authorized')
        emit('welcome', {'namespace': ns, 'auth': auth})

    def echo(*args):
        return args

    def notify(data):
        emit('notified', data)

    def binary(first, second):
        emit('binary-back', (first, second))
        return [first, second], 2

    def server_ack_request(data):
        sid = request.sid

        def on_client_ack(*answer):
            socketio.emit('got-client-ack', list(answer), to=sid, namespace=ns)
        emit('need-ack', data, callback=on_client_ack)

    def join(data):
        join_room(data['room'])
        return 'joined', data['room']

    def shout(data):
        emit('shouted', data, to=data['room'])

    def bye(*args):
        disconnect()

    for name, handler in [('connect', connect), ('echo', echo), ('notify', notify),
                          ('binary', binary), ('server-ack-request', server_ack_request),
                          ('join', join), ('shout', shout), ('bye', bye)]:
        socketio.on_event(name, handler, namespace=ns)


def main(args):
    app = Flask(__name__)
    # async_handlers=False: in threading mode python-engineio would otherwise run each received
    # message's handler in its own thread, and a binary event's attachments could be reassembled
    # out of order (python-socketio issue #403). No handler here blocks.
    socketio = SocketIO(app, async_mode='threading', ping_interval=args.ping_interval,
                        async_handlers=False)
    for ns in NAMESPACES:
        register(socketio, ns)
    logging.getLogger('werkzeug').setLevel(logging.ERROR)
    server = make_server(args.host, args.port, app, threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    print(f'READY {server.server_port}', flush=True)
    server.serve_forever()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--host', default='127.0.0.1')
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--ping-interval', type=float, default=25)
    main(parser.parse_args())
