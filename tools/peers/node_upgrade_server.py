"""An Engine.IO 4 / Socket.IO 5 server that upgrades polling to WebSocket the way the Node
reference server (engine.io 6, socket.io 4.8) does, for replay tests. Node cannot be installed
here; this follows its source (packages/engine.io/lib/socket.ts `_maybeUpgrade`,
lib/transports/polling.ts `doClose`) and the node5-* captures:

- after `2probe` on the WebSocket it answers `3probe`, then every 100 ms answers a polling GET
  that is pending with a noop `6` (so the client can pause polling);
- on `5` the polling transport is closed: a GET still pending then is answered with a lone `1`
  (the transport's close, not the session's), and later polling requests get HTTP 400;
- Socket.IO: a CONNECT gets `{"sid": <socket id>}` (not the Engine.IO sid), `echo` is
  acknowledged with its arguments, `whoami` is answered with `you {id: <socket id>}`.

Prints `READY <port>`, serves until killed. Standard library only.
"""
import base64
import hashlib
import json
import os
import socket
import sys
import threading
import time
from urllib.parse import parse_qs, urlsplit

GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
lock = threading.Condition()
sessions = {}


def new_id():
    return base64.urlsafe_b64encode(os.urandom(15)).decode()


class Session:
    def __init__(self):
        self.sid = new_id()
        self.socket_id = new_id()
        self.queue = []          # packets for the client, while polling
        self.get_waiting = False
        self.answer = None       # what the pending GET is answered with
        self.upgrading = False
        self.upgraded = False
        self.ws = None
        self.closed = False

    def send(self, packet):
        """Sends on the transport in use (caller holds the lock)."""
        if self.upgraded:
            ws_send(self.ws, packet)
        else:
            self.queue.append(packet)
            lock.notify_all()


def read_head(conn):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None, None, b''
        data += chunk
    head, rest = data.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(':')
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get('content-length', '0'))
    while len(rest) < length:
        chunk = conn.recv(4096)
        if not chunk:
            break
        rest += chunk
    return lines[0], headers, rest[:length]


def respond(conn, status, body, content_type='text/plain; charset=UTF-8'):
    payload = body.encode()
    conn.sendall((f'HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n'
                  'cache-control: no-store\r\nConnection: close\r\n\r\n').encode() + payload)


def ws_send(conn, text):
    data = text.encode()
    header = bytes([0x81]) + (bytes([len(data)]) if len(data) < 126 else bytes([126]) + len(data).to_bytes(2, 'big'))
    try:
        conn.sendall(header + data)
    except OSError:
        pass


def ws_read(conn):
    def exactly(n):
        out = b''
        while len(out) < n:
            chunk = conn.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out
    b0, b1 = exactly(2)
    length = b1 & 0x7F
    if length == 126:
        length = int.from_bytes(exactly(2), 'big')
    elif length == 127:
        length = int.from_bytes(exactly(8), 'big')
    key = exactly(4) if b1 & 0x80 else b'\0\0\0\0'
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(exactly(length)))
    return b0 & 0x0F, payload


def handle_socketio(session, text):
    """One Socket.IO packet from the client (caller holds the lock); replies are Engine.IO texts."""
    if text.startswith('0'):
        session.send('40' + json.dumps({'sid': session.socket_id}))
    elif text.startswith('2'):
        body = text[1:]
        ack = ''
        while body and body[0].isdigit():
            ack, body = ack + body[0], body[1:]
        args = json.loads(body)
        if args[0] == 'echo' and ack:
            session.send('43' + ack + json.dumps(args[1:]))
        elif args[0] == 'whoami':
            session.send('42' + json.dumps(['you', {'id': session.socket_id}]))


def handle_engineio(session, text):
    if text.startswith('4'):
        handle_socketio(session, text[1:])
    elif text.startswith('1'):
        session.closed = True
        lock.notify_all()


def upgrade_check(session):
    """engine.io's `check`, every 100 ms while upgrading: a pending GET is answered with a noop."""
    while True:
        time.sleep(0.1)
        with lock:
            if not session.upgrading or session.closed:
                return
            if session.get_waiting and session.answer is None:
                session.answer = '6'
                lock.notify_all()


def serve_websocket(conn, headers, session):
    accept = base64.b64encode(hashlib.sha1((headers['sec-websocket-key'] + GUID).encode()).digest()).decode()
    conn.sendall(('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                  f'Sec-WebSocket-Accept: {accept}\r\n\r\n').encode())
    try:
        while True:
            opcode, payload = ws_read(conn)
            if opcode == 8:
                break
            text = payload.decode()
            with lock:
                if text == '2probe':
                    ws_send(conn, '3probe')
                    session.upgrading = True
                    threading.Thread(target=upgrade_check, args=(session,), daemon=True).start()
                elif text == '5':
                    session.upgrading = False
                    session.upgraded = True
                    session.ws = conn
                    if session.get_waiting and session.answer is None:
                        session.answer = '1'   # polling doClose: the transport is writable
                        lock.notify_all()
                    for packet in session.queue:
                        ws_send(conn, packet)
                    session.queue = []
                elif text == '2':
                    ws_send(conn, '3')
                else:
                    handle_engineio(session, text)
    except (EOFError, OSError, UnicodeDecodeError):
        pass
    with lock:
        session.closed = True
        lock.notify_all()


def serve(conn):
    with conn:
        request, headers, body = read_head(conn)
        if request is None:
            return
        method, target, _ = request.split(' ', 2)
        query = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
        sid = query.get('sid')
        if query.get('transport') == 'websocket':
            with lock:
                session = sessions.get(sid)
            if session is None:
                return respond(conn, '400 Bad Request', '{"code":1,"message":"Session ID unknown"}')
            return serve_websocket(conn, headers, session)
        if sid is None:
            session = Session()
            with lock:
                sessions[session.sid] = session
            handshake = {'sid': session.sid, 'upgrades': ['websocket'], 'pingInterval': 25000,
                         'pingTimeout': 20000, 'maxPayload': 1000000}
            return respond(conn, '200 OK', '0' + json.dumps(handshake))
        with lock:
            session = sessions.get(sid)
            if session is None or session.upgraded:
                return respond(conn, '400 Bad Request', '{"code":3,"message":"Bad request"}')
            if method == 'POST':
                for text in body.decode().split('\x1e'):
                    handle_engineio(session, text)
                return respond(conn, '200 OK', 'ok', 'text/html')
            session.get_waiting = True
            while not session.queue and session.answer is None and not session.closed:
                lock.wait(1)
            if session.answer is not None:
                answer, session.answer = session.answer, None
            else:
                answer, session.queue = '\x1e'.join(session.queue), []
            session.get_waiting = False
        respond(conn, '200 OK', answer or '6')


def main():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('127.0.0.1', int(sys.argv[1]) if len(sys.argv) > 1 else 0))
    listener.listen(64)
    print(f'READY {listener.getsockname()[1]}', flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


if __name__ == '__main__':
    main()
