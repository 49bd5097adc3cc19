"""Scenario client for the siotape end-to-end tests (python-socketio 5.x or 4.6 sync Client).

    client.py --url http://127.0.0.1:PORT --transport polling|websocket|default [--server sio5|flask|sio4]
              [--serializer default|msgpack]

Runs the scenario of the ``server_*.py`` peers with three clients: A and B connect to ``/`` and
``/admin`` with good auth, C tries ``/admin`` with bad auth and must be refused (CONNECT_ERROR).
A then exchanges events with and without acks both ways, a binary event with a binary ack, A and
B join a room and A shouts to it, A is disconnected from ``/admin`` by the server, and all
disconnect. Prints one JSON document of what each client observed and exits 0 (1 on a timeout).

Each client handles its messages in arrival order (``handle_messages_in_order``), but the three
clients' packets interleave as they happen; the scenario is cut into steps (each waits for
everything it expects) and the observations of a step are sorted. The output is the same on every
run against any correct server or proxy.
"""
import argparse
import json
import os
import sys
import threading
from importlib.metadata import version

import socketio

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'apps', '_lib'))
from scenario_lib import handle_messages_in_order  # noqa: E402

SIO4 = version('python-socketio').startswith('4.')
EVENTS = ('welcome', 'notified', 'binary-back', 'need-ack', 'got-client-ack', 'shouted')


def plain(value):
    """JSON-friendly copy of received data: bytes become {"bytes": hex}, tuples lists."""
    if isinstance(value, (bytes, bytearray)):
        return {'bytes': bytes(value).hex()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


class Peer:
    """One Socket.IO client and what it observed, step by step."""

    def __init__(self, name, namespaces, timeout, serializer='default'):
        self.name, self.namespaces, self.timeout = name, namespaces, timeout
        self.sio = socketio.Client() if serializer == 'default' else socketio.Client(serializer=serializer)
        self.steps = []  # [(step name, [observation, ...])]
        self.cond = threading.Condition()
        # In arrival order, so that a binary packet's attachments are put back in their order; no
        # handler of the scenario waits for anything.
        handle_messages_in_order(self.sio)
        for ns in namespaces:
            self._install(ns)

    def _install(self, ns):
        self.sio.on('connect', lambda *a: self.observe(ns, 'connect', None), namespace=ns)
        self.sio.on('disconnect', lambda *a: self.observe(ns, 'disconnect', None), namespace=ns)
        self.sio.on('connect_error', lambda *a: self.observe(ns, 'connect_error', None, a),
                    namespace=ns)
        for event in EVENTS:
            self.sio.on(event, self._event_handler(ns, event), namespace=ns)

    def _event_handler(self, ns, event):
        def handler(*args):
            self.observe(ns, 'event', event, args)
            if event == 'need-ack':
                return 'answer', {'to': args[0] if args else None}
        return handler

    def step(self, name):
        with self.cond:
            self.steps.append((name, []))

    def observe(self, ns, kind, name, args=()):
        with self.cond:
            if self.steps:
                self.steps[-1][1].append([ns, kind, name, plain(list(args))])
                self.cond.notify_all()

    def wait(self, ns, kind, name=None):
        """Block until the current step has observed (ns, kind, name)."""
        def seen():
            return any(o[:3] == [ns, kind, name] for o in self.steps[-1][1])
        with self.cond:
            if not self.cond.wait_for(seen, self.timeout):
                raise TimeoutError(f'client {self.name}: no {kind} {name or ""} on {ns} '
                                   f'in step {self.steps[-1][0]!r}: saw {self.steps[-1][1]}')

    def connect(self, url, token, transports):
        """Open the Engine.IO connection and ask for the namespaces; the caller waits for the
        outcome (``wait=False``: on a refused namespace python-socketio 5 would otherwise
        disconnect inside ``connect()`` and hang on the long-poll, see ``close``)."""
        self.step('connect')
        if SIO4:
            self.sio.connect(f'{url}?token={token}', transports=transports,
                             namespaces=self.namespaces)
        else:
            self.sio.connect(url, auth={'token': token}, transports=transports,
                             namespaces=self.namespaces, wait=False)

    def emit(self, ns, event, *args):
        self.sio.emit(event, args, namespace=ns)

    def ask(self, ns, event, *args):
        """Emit with an ack request and wait for the ack."""
        self.sio.emit(event, args, namespace=ns,
                      callback=lambda *answer: self.observe(ns, 'ack', event, answer))
        self.wait(ns, 'ack', event)

    def close(self):
        """Disconnect (41 per namespace, then Engine.IO close) without waiting for the reader.

        Over polling, python-engineio servers do not answer the pending long-poll GET when the
        client closes, so ``disconnect()`` would block until the server's ping timeout. Wait only
        for the writer, which ends once the close has been sent.
        """
        with self.cond:
            self.steps.append(('closing', []))  # observations from here on are not reported
        writer = getattr(self.sio.eio, 'write_loop_task', None)
        threading.Thread(target=self.sio.disconnect, daemon=True).start()
        if writer is not None:
            writer.join(self.timeout)

    def report(self):
        return [{'step': name, 'observed': sorted(obs, key=lambda o: json.dumps(o, sort_keys=True))}
                for name, obs in self.steps if name != 'closing']


def scenario(url, transports, timeout, serializer='default'):
    a = Peer('A', ['/', '/admin'], timeout, serializer)
    b = Peer('B', ['/', '/admin'], timeout, serializer)
    c = Peer('C', ['/admin'], timeout, serializer)
    peers = [a, b, c]
    try:
        for peer in (a, b):
            peer.connect(url, 'secret', transports)
            for ns in peer.namespaces:
                peer.wait(ns, 'event', 'welcome')
                peer.wait(ns, 'connect')
        c.connect(url, 'wrong', transports)
        c.wait('/admin', 'connect_error')

        a.step('echo')
        a.ask('/', 'echo', 'hello', {'k': '\u20ac', 'n': [1, 2.5, None, True]}, 7)
        a.ask('/admin', 'echo', 7)

        a.step('notify')
        a.emit('/', 'notify', {'n': 1})
        a.wait('/', 'event', 'notified')

        a.step('binary')
        a.ask('/', 'binary', b'\x00\x01\x02\xff', bytes(range(16)) * 4)
        a.wait('/', 'event', 'binary-back')

        a.step('server-ack')
        a.emit('/', 'server-ack-request', {'q': 'answer me'})
        a.wait('/', 'event', 'need-ack')
        a.wait('/', 'event', 'got-client-ack')

        for peer in (a, b):
            peer.step('room')
            peer.ask('/', 'join', {'room': 'lobby'})
        a.emit('/', 'shout', {'room': 'lobby', 'msg': 'hi all'})
        a.wait('/', 'event', 'shouted')
        b.wait('/', 'event', 'shouted')

        a.step('bye')
        a.emit('/admin', 'bye')
        a.wait('/admin', 'disconnect')
    finally:
        for peer in peers:
            peer.close()
    return {peer.name: peer.report() for peer in peers}


def render(doc):
    """JSON text with one observation per line (readable diffs)."""
    def dump(value):
        return json.dumps(value, ensure_ascii=False)
    clients = []
    for name, steps in doc['clients'].items():
        blocks = [f'   {{"step": {dump(s["step"])}, "observed": [\n'
                  + ',\n'.join(f'    {dump(o)}' for o in s['observed']) + ']}'
                  for s in steps]
        clients.append(f'  {dump(name)}: [\n' + ',\n'.join(blocks) + ']')
    return (f'{{"server": {dump(doc["server"])}, "transport": {dump(doc["transport"])}, '
            '"clients": {\n' + ',\n'.join(clients) + '}}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--transport', choices=['polling', 'websocket', 'default'],
                        default='default')
    parser.add_argument('--server', choices=['sio5', 'flask', 'sio4'],
                        help='label only, copied to the output')
    parser.add_argument('--timeout', type=float, default=10)
    parser.add_argument('--serializer', choices=['default', 'msgpack'], default='default',
                        help="python-socketio 5: the Socket.IO parser (msgpack = socket.io-msgpack-parser's)")
    args = parser.parse_args()
    transports = None if args.transport == 'default' else [args.transport]
    try:
        clients = scenario(args.url, transports, args.timeout, args.serializer)
        print(render({'server': args.server, 'transport': args.transport, 'clients': clients}))
        code = 0
    except TimeoutError as exc:
        print(f'client.py: {exc}', file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    # python-engineio 3.x reader threads are not daemons and may sit in a long-poll GET that the
    # server never answers after a client close (see Peer.close): do not wait for them.
    os._exit(code)


if __name__ == '__main__':
    main()
