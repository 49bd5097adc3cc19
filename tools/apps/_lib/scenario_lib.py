"""Shared helpers for the sample apps' scenario clients.

A scenario drives one or more python-socketio clients (`Peer`), waits on the
events it expects with timeouts (never sleeps), fails with a clear message
(exit 1) when something is missing or unexpected, and prints a deterministic
JSON summary of what every client observed (exit 0).
"""
import argparse
import json
import os
import queue
import sys
import threading
import time
import traceback

import requests
import socketio


DEBUG = bool(os.environ.get('SCENARIO_DEBUG'))
T0 = time.monotonic()


class ScenarioFailure(Exception):
    pass


def fail(msg):
    raise ScenarioFailure(msg)


def check(cond, msg):
    if not cond:
        raise ScenarioFailure(msg)


def parse_args(description, extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--url', required=True, help='base URL of the app (or of siotape in front of it)')
    p.add_argument('--transport', choices=['polling', 'websocket', 'default'], default='default',
                   help='polling only, websocket only, or default (polling then upgrade)')
    p.add_argument('--timeout', type=float, default=5.0, help='seconds to wait for each expected event')
    if extra:
        extra(p)
    args = p.parse_args()
    args.url = args.url.rstrip('/')
    return args


def handle_messages_in_order(sio):
    """Have python-socketio handle the messages of `sio` one at a time, in arrival order, on a
    thread of their own.

    python-engineio's client runs each received message's handler in a new thread
    (`_trigger_event('message', ..., run_async=True)`), so packets that arrive in order can be
    handled out of order: under load, a job's `complete` was seen before its last `output` lines,
    and python-socketio, which adds a binary packet's attachments as their handlers run, once
    reassembled an ack's two attachments swapped (python-socketio issues #403, #436).

    The reading thread only queues each message, in arrival order, and goes back to reading; one
    worker takes them off the queue and runs python-socketio's handler. Running the handlers on the
    reading thread itself would be in order too, but a handler then stops the reading (no ping
    answered meanwhile), and one that ends the Engine.IO connection (the server disconnecting the
    last namespace: python-socketio 5 calls `eio.disconnect()`, which joins the reading thread)
    fails with "cannot join current thread". A handler must still not wait for a later message
    (a `call()` inside a handler would wait for an ack queued behind it): the scenarios' handlers
    only record and answer. Works with python-engineio 3 and 4 (the same `_trigger_event`)."""
    eio = sio.eio
    trigger = eio._trigger_event
    arrived = queue.SimpleQueue()

    def handle_in_order():
        while True:
            args = arrived.get()
            try:
                trigger('message', *args, run_async=False)
            except Exception:  # python-engineio logs a handler's error; never lose the worker
                traceback.print_exc()

    def queue_messages(event, *args, **kwargs):
        if event == 'message':
            arrived.put(args)
            return None
        return trigger(event, *args, **kwargs)

    threading.Thread(target=handle_in_order, name='handle-messages-in-order', daemon=True).start()
    eio._trigger_event = queue_messages


class Peer:
    """A python-socketio client that records everything it receives."""

    def __init__(self, name, args, namespaces=('/',), **client_kwargs):
        self.name = name
        self.args = args
        self.url = args.url
        self.timeout = args.timeout
        self.namespaces = list(namespaces)
        client_kwargs.setdefault('reconnection', False)
        self.sio = socketio.Client(**client_kwargs)
        handle_messages_in_order(self.sio)
        self.log = []          # [namespace, event, *args] in arrival order
        self.closing = False
        self.cond = threading.Condition()
        for ns in self.namespaces:
            self._register(ns)

    def _register(self, ns):
        self.sio.on('connect', lambda ns=ns: self._add(ns, 'connect'), namespace=ns)
        self.sio.on('connect_error', lambda data=None, ns=ns: self._add(ns, 'connect_error', data),
                    namespace=ns)
        self.sio.on('disconnect', lambda reason=None, ns=ns: self._add(ns, 'disconnect'), namespace=ns)
        self.sio.on('*', lambda event, *a, ns=ns: self._add(ns, event, *a), namespace=ns)

    def on(self, event, handler, namespace='/'):
        """Explicit handler (e.g. to answer a server's ack request); still recorded."""
        def wrapped(*a):
            self._add(namespace, event, *a)
            return handler(*a)
        self.sio.on(event, wrapped, namespace=namespace)

    def _add(self, ns, event, *a):
        if DEBUG:
            print(f'{time.monotonic() - T0:8.3f} {self.name} <- {ns} {event} {a}', file=sys.stderr, flush=True)
        with self.cond:
            if self.closing and event != 'disconnect':
                return   # after our own disconnect(): whether in-flight packets arrive is a race
            self.log.append([ns, event, *a])
            self.cond.notify_all()

    # --- connection -----------------------------------------------------
    def connect(self, auth=None, headers=None):
        t = self.args.transport
        self.sio.connect(self.url, transports=None if t == 'default' else [t],
                         namespaces=self.namespaces, auth=auth, headers=headers or {},
                         wait_timeout=self.timeout)
        for ns in self.namespaces:
            self.wait_for('connect', ns=ns)
        return self

    def connect_refused(self, auth=None):
        """Connect expecting a CONNECT_ERROR; returns the error data.

        The attempt runs in a daemon thread: after a refused CONNECT over polling the
        python-socketio client sends a close packet, which python-engineio servers do not
        answer by releasing the pending long-poll GET, so the client's connect() only returns
        at the next ping (~25 s). We wait for the CONNECT_ERROR itself instead."""
        t = self.args.transport

        def attempt():
            try:
                self.sio.connect(self.url, transports=None if t == 'default' else [t],
                                 namespaces=self.namespaces, auth=auth, wait_timeout=self.timeout)
            except Exception:
                pass
        self._refused = threading.Thread(target=attempt, daemon=True)
        self._refused.start()
        deadline = time.monotonic() + self.timeout
        with self.cond:
            while not any(e[1] in ('connect', 'connect_error') for e in self.log):
                left = deadline - time.monotonic()
                if left <= 0:
                    fail(f'{self.name}: neither CONNECT nor CONNECT_ERROR within {self.timeout}s')
                self.cond.wait(left)
        ns = self.namespaces[0]
        if self.received('connect', ns=ns):
            fail(f'{self.name}: connection to {ns} was accepted, expected CONNECT_ERROR')
        return self.wait_for('connect_error', ns=ns)[2]

    def disconnect(self):
        with self.cond:
            self.closing = True
        if getattr(self, '_refused', None) is not None:
            return   # see connect_refused
        if not self.sio.connected:
            return
        eio = self.sio.eio
        if eio.current_transport != 'polling':
            self.sio.disconnect()
            return
        # Over polling, python-engineio *servers* (asyncio flavour) do not release the pending
        # long-poll GET when the client sends its close packet, so Client.disconnect() blocks
        # until the next ping (~25 s). Run the ordinary disconnect in a daemon thread and wait
        # only until its packets (`41...`, `1`) have been POSTed; the pending GET is abandoned.
        threading.Thread(target=self.sio.disconnect, daemon=True).start()
        q = eio.queue
        deadline = time.monotonic() + self.timeout
        with q.all_tasks_done:
            while (eio.state == 'connected' or q.unfinished_tasks) and time.monotonic() < deadline:
                q.all_tasks_done.wait(0.02)

    # --- emitting -------------------------------------------------------
    def emit(self, event, *data, namespace='/'):
        payload = data[0] if len(data) == 1 else (tuple(data) if data else None)
        self.sio.emit(event, payload, namespace=namespace)

    def call(self, event, *data, namespace='/'):
        """Emit with an ack callback; returns the ack arguments (single value or tuple)."""
        payload = data[0] if len(data) == 1 else (tuple(data) if data else None)
        try:
            return self.sio.call(event, payload, namespace=namespace, timeout=self.timeout)
        except socketio.exceptions.TimeoutError:
            fail(f'{self.name}: no ack for {event!r} within {self.timeout}s')

    # --- waiting / checking ---------------------------------------------
    def mark(self):
        """A position in the log: pass it as `after` to wait only for later events."""
        with self.cond:
            return len(self.log)

    def _matches(self, ns, event, pred, after=0):
        return [e for e in self.log[after:]
                if e[0] == ns and e[1] == event and (pred is None or pred(*e[2:]))]

    def wait_for(self, event, pred=None, ns='/', count=1, what=None, after=0):
        """Wait until `count` received events match; return the count-th match."""
        deadline = time.monotonic() + self.timeout
        with self.cond:
            while True:
                found = self._matches(ns, event, pred, after)
                if len(found) >= count:
                    return found[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [e[1] for e in self.log if e[0] == ns]
                    fail(f'{self.name}: expected {what or repr(event)} on {ns} '
                         f'(x{count}, got {len(found)}) within {self.timeout}s; received: {seen}')
                self.cond.wait(left)

    def received(self, event, ns='/', pred=None):
        with self.cond:
            return self._matches(ns, event, pred)

    def assert_none(self, event, ns='/', pred=None):
        got = self.received(event, ns, pred)
        check(not got, f'{self.name}: unexpected {event!r} on {ns}: {got}')

    def events(self, ns=None, exclude=()):
        with self.cond:
            return [list(e) for e in self.log
                    if (ns is None or e[0] == ns) and e[1] not in exclude]


def _b(v):
    if isinstance(v, (bytes, bytearray)):
        return {'bytes': v.hex()}
    if isinstance(v, dict):
        return {k: _b(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_b(x) for x in v]
    return v


class Normalizer:
    """Replaces counter-based ids (values of the given keys) with '<key#n>' in order of
    first appearance, so re-running a scenario against the same app gives the same summary."""

    def __init__(self, keys):
        self.keys = set(keys)
        self.maps = {}

    def __call__(self, v):
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if k in self.keys and isinstance(x, (str, int)) and not isinstance(x, bool):
                    m = self.maps.setdefault(k, {})
                    out[k] = m.setdefault(x, f'<{k}#{len(m) + 1}>')
                else:
                    out[k] = self(x)
            return out
        if isinstance(v, (list, tuple)):
            return [self(x) for x in v]
        return v


def http(method, url, timeout, **kw):
    try:
        return requests.request(method, url, timeout=timeout, **kw)
    except requests.RequestException as e:
        fail(f'HTTP {method} {url} failed: {e}')


def run(main, args, normalize_keys=()):
    """Run main(args, peers) -> summary dict; print it; exit 0/1. `peers` is a list the
    scenario appends its Peer objects to so they are always disconnected."""
    peers = []
    code = 0
    try:
        summary = main(args, peers)
        norm = Normalizer(normalize_keys)
        print(json.dumps(norm(_b(summary)), indent=2, sort_keys=True, ensure_ascii=False), flush=True)
    except ScenarioFailure as e:
        print(f'scenario FAILED: {e}', file=sys.stderr, flush=True)
        code = 1
    except Exception as e:  # a crash is a failure too, with the reason
        print(f'scenario FAILED: {type(e).__name__}: {e}', file=sys.stderr, flush=True)
        code = 1
    finally:
        # in parallel: websocket-client's close() waits up to 3 s for the server's close frame
        threads = [threading.Thread(target=_quiet_disconnect, args=(p,)) for p in peers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    sys.exit(code)


def _quiet_disconnect(p):
    try:
        p.disconnect()
    except Exception:
        pass
