"""Hostile clients against ``siotape replay serve``, with raw sockets, for ReplayServeHostileTests.

    hostile_client.py --url http://127.0.0.1:PORT --scenario NAME

Sends malformed HTTP, Engine.IO, Socket.IO and WebSocket input to the mock server and checks that
each gets a protocol-correct rejection (an HTTP error status with the reference server's JSON
body, a WebSocket close with the right code, or nothing but a report), then that a well-formed
session still works, over polling and over WebSocket (handshake, CONNECT, its reply).

The server is expected to run with ``--match events --keep-running``: a CONNECT before the first
EVENT is answered with a plain accept whatever the recording, so a healthy session looks the same
after any number of hostile ones.

With ``--reference`` the client runs against a real python-engineio server instead
(tools/peers/engineio_reference.py), so that what it expects of "an Engine.IO server" is checked
against one rather than written from memory: the same requests, the same statuses, except where
the two reference implementations differ, which each check names (`python=`). The bodies differ
by design: engine.io (Node, the reference siotape follows) answers `{"code":N,"message":..}`
(its `Server.errors` table; the nodeserver-eio3-pyclient-polling capture holds a real one),
python-engineio a JSON string. Only the scenarios in REFERENCE_SCENARIOS have such a mode; the
others test siotape's own limits and policies (head sizes, timeouts, memory, what it reports), or
answers the Python servers give otherwise and that come from engine.io's and socket.io's source
alone: the 413 of an oversized POST and a second GET ending the session (http-body; python-engineio
gives no prompt answer to the one and holds both GETs of the other), the wording of a refused
namespace (socketio; python-socketio says "Unable to connect", socket.io "Invalid namespace").

Lines on stdout: ``MARK <name>`` where the test may measure the server (this script then waits
for ``GO`` on stdin), and finally one JSON document ``{"scenario": .., "failures": [..]}``; exit 0.
No step waits on time: socket timeouts only turn a hang of the server into a failure report.
"""
import argparse
import json
import socket
import sys
import threading
import traceback
import urllib.parse
import zlib

from hostile import BAD_SOCKETIO_PACKETS, binary, frame, recv_exactly, recv_to_eof, recv_until, text

TIMEOUT = 30
FAILURES = []
ADDRESS = ('127.0.0.1', 0)
# --reference: the server is python-engineio (tools/peers/engineio_reference.py), not siotape.
REFERENCE = False


def fail(what):
    FAILURES.append(what)


def check(condition, what):
    if not condition:
        fail(what)
    return condition


def mark(name):
    print(f'MARK {name}', flush=True)
    line = sys.stdin.readline()
    if line.strip() != 'GO':
        fail(f'expected GO after MARK {name}, got {line!r}')


# --- HTTP ----------------------------------------------------------------------------------------

def connect():
    return socket.create_connection(ADDRESS, timeout=TIMEOUT)


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def __repr__(self):
        return f'{self.status} {self.body[:200]!r}'

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


def read_response(sock):
    """One HTTP response; status None when the server closed without answering."""
    try:
        head = recv_until(sock, b'\r\n\r\n', limit=1 << 16)
    except ConnectionResetError:
        head = b''
    if not head.endswith(b'\r\n\r\n'):
        return Response(None, {}, head)
    lines = head.decode('latin-1').split('\r\n')
    status = int(lines[0].split(' ')[1])
    headers = {}
    for line in lines[1:]:
        if ':' in line:
            name, value = line.split(':', 1)
            headers[name.strip().lower()] = value.strip()
    if 'content-length' in headers:
        body = recv_exactly(sock, int(headers['content-length']))
    elif headers.get('transfer-encoding', '').lower() == 'chunked':
        body = b''
        while True:
            size = int(recv_until(sock, b'\r\n').strip().split(b';')[0], 16)
            body += recv_exactly(sock, size)
            recv_exactly(sock, 2)
            if size == 0:
                break
    elif status in (101, 204, 304):
        body = b''
    else:
        body, _ = recv_to_eof(sock)
    return Response(status, headers, body)


def exchange(raw, sock=None):
    """Sends raw bytes on a new connection (or `sock`) and reads the answer."""
    sock = sock or connect()
    try:
        sock.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may answer and close before taking everything
    return read_response(sock), sock


def request(method, path, body=b'', headers=''):
    head = f'{method} {path} HTTP/1.1\r\nHost: replay.test\r\n{headers}'
    if body or method == 'POST':
        head += f'Content-Length: {len(body)}\r\n'
    response, sock = exchange(head.encode() + b'\r\n' + body)
    sock.close()
    return response


def expect_closed(sock, what):
    """The server must close the connection (after its answer)."""
    try:
        rest, _ = recv_to_eof(sock)
    except socket.timeout:
        return fail(f'{what}: the connection stayed open')
    check(rest == b'', f'{what}: bytes after the answer: {rest[:100]!r}')


def expect_error(response, status, code, what, python=None):
    """An Engine.IO error as the reference server (engine.io) words it: `{"code":N,"message":..}`.
    With --reference: the same status from python-engineio (or `python`, the status python-engineio
    answers where it differs from engine.io), and its body, a JSON string."""
    if REFERENCE:
        status = python or status
        if check(response.status == status, f'{what}: expected HTTP {status} from python-engineio, got {response!r}') \
                and status == 400:
            check(isinstance(response.json(), str), f'{what}: expected python-engineio\'s JSON string, got {response!r}')
        return
    if not check(response.status == status, f'{what}: expected HTTP {status}, got {response!r}'):
        return
    if code is not None:
        body = response.json()
        check(isinstance(body, dict) and body.get('code') == code and isinstance(body.get('message'), str),
              f'{what}: expected {{"code":{code},"message":...}}, got {response.body[:200]!r}')


# --- Engine.IO over polling ---------------------------------------------------------------------

def eio_path(eio=4, sid=None, transport='polling', extra=''):
    path = f'/socket.io/?EIO={eio}&transport={transport}'
    if sid:
        path += '&sid=' + urllib.parse.quote(sid)
    return path + extra


def open_polling(eio=4, extra=''):
    """A polling handshake; returns the sid."""
    response = request('GET', eio_path(eio, extra=extra))
    start, end = response.body.find(b'{'), response.body.find(b'}')
    if response.status != 200 or start < 0:
        raise AssertionError(f'polling handshake (EIO={eio}) answered {response!r}')
    return json.loads(response.body[start:end + 1])['sid']


def post(sid, body, eio=4, content_type='text/plain;charset=UTF-8', extra=''):
    return request('POST', eio_path(eio, sid, extra=extra), body, f'Content-Type: {content_type}\r\n')


def poll(sid, eio=4, extra=''):
    return request('GET', eio_path(eio, sid, extra=extra))


def healthy_polling(label, eio=4):
    """A well-formed polling session: handshake, CONNECT, its reply, close."""
    sid = open_polling(eio, '&b64=1' if eio == 3 else '')
    if eio == 3:
        # The v3 server greets `/` itself: the `40` may come with the handshake or on the first GET.
        response = poll(sid, 3, '&b64=1')
        check(response.status == 200, f'{label}: v3 GET answered {response!r}')
    else:
        check(post(sid, b'40').status == 200, f'{label}: POST of a CONNECT refused')
        response = poll(sid)
        check(response.status == 200 and response.body.startswith(b'40{"sid":'),
              f'{label}: the CONNECT was not answered over polling: {response!r}')
    post(sid, b'1' if eio == 4 else b'1:1', eio)


# --- WebSocket ----------------------------------------------------------------------------------

def ws_connect(path=None, headers=''):
    """An upgraded connection (the 101 checked) and the response head."""
    path = path or eio_path(transport='websocket')
    head = (f'GET {path} HTTP/1.1\r\nHost: replay.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            f'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{headers}\r\n')
    response, sock = exchange(head.encode())
    if response.status != 101:
        raise AssertionError(f'WebSocket upgrade of {path} answered {response!r}')
    return sock, response


def read_frame(sock):
    """(opcode, payload) of one server frame; (None, b'') at EOF."""
    first = recv_exactly(sock, 2)
    if len(first) < 2:
        return None, b''
    opcode, length = first[0] & 0x0F, first[1] & 0x7F
    check(first[1] & 0x80 == 0, 'the server masked a frame')
    if length == 126:
        length = int.from_bytes(recv_exactly(sock, 2), 'big')
    elif length == 127:
        length = int.from_bytes(recv_exactly(sock, 8), 'big')
    return opcode, recv_exactly(sock, length)


def next_message(sock):
    """The next data frame's payload, skipping Engine.IO pings; None at a close or EOF."""
    while True:
        opcode, payload = read_frame(sock)
        if opcode in (None, 0x8):
            return None
        if opcode == 0x1 and payload == b'2':
            sock.sendall(text(b'3'))
            continue
        if opcode in (0x1, 0x2):
            return payload


def wait_for(sock, prefix):
    """Skips messages (the recorded server's) until one starting with `prefix`; None at the end."""
    while True:
        message = next_message(sock)
        if message is None or message.startswith(prefix):
            return message


def ws_session(path=None, headers=''):
    """A WebSocket-only Engine.IO v4 session: returns the socket after the open packet."""
    sock, _ = ws_connect(path, headers)
    opened = next_message(sock)
    if not opened or not opened.startswith(b'0{"sid":'):
        raise AssertionError(f'no open packet on a new WebSocket, got {opened!r}')
    return sock


def expect_close(sock, code, what):
    """The server must send a close frame with `code`, then end the connection."""
    try:
        while True:
            opcode, payload = read_frame(sock)
            if opcode is None:
                return fail(f'{what}: connection ended without a close frame (expected {code})')
            if opcode == 0x8:
                got = int.from_bytes(payload[:2], 'big') if len(payload) >= 2 else None
                check(got == code, f'{what}: close code {got}, expected {code}')
                break
    except ConnectionResetError:
        return fail(f'{what}: connection reset without a close frame (expected {code})')
    except socket.timeout:
        return fail(f'{what}: no close frame (expected {code})')
    try:
        sock.sendall(frame(0x8, code.to_bytes(2, 'big')))
    except OSError:
        pass
    try:
        recv_to_eof(sock)
    except socket.timeout:
        fail(f'{what}: the connection stayed open after the close frame')
    sock.close()


def healthy_websocket(label):
    """A well-formed WebSocket session: open, CONNECT, its reply, a clean close."""
    sock = ws_session()
    sock.sendall(text(b'40'))
    reply = next_message(sock)
    check(reply is not None and reply.startswith(b'40{"sid":'), f'{label}: CONNECT over WebSocket answered {reply!r}')
    sock.sendall(frame(0x8, (1000).to_bytes(2, 'big')))
    opcode, payload = read_frame(sock)
    check(opcode == 0x8, f'{label}: no close frame in answer to the client\'s')
    sock.close()


def alive(what):
    """After one hostile input: the server still takes a handshake (the full session is `healthy`)."""
    response = request('GET', eio_path())
    check(response.status == 200 and response.body.startswith(b'0{"sid":'),
          f'after {what}: the server no longer answers a handshake: {response!r}')


def healthy(label):
    healthy_polling(label)
    healthy_websocket(label)


# --- Scenarios ----------------------------------------------------------------------------------

def http_head():
    """Broken request heads: 400 (or 431) and the connection closed; the server goes on."""
    cases = {
        'garbage request line': b'\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n',
        'no HTTP version': b'GET /socket.io/?EIO=4&transport=polling\r\n\r\n',
        'space in a header name': b'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nBad Header: x\r\n\r\n',
        'non-token header name': b'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nB@d(name): x\r\n\r\n',
        'header without colon': b'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nnocolon\r\n\r\n',
        'NUL in the request line': b'GET /socket.io/?EIO=4\x00 HTTP/1.1\r\n\r\n',
        'oversized header (1 MiB)': b'GET / HTTP/1.1\r\nX-Big: ' + b'a' * (1 << 20) + b'\r\n\r\n',
        'oversized URL (1 MiB)': b'GET /' + b'a' * (1 << 20) + b' HTTP/1.1\r\n\r\n',
    }
    for what, raw in cases.items():
        response, sock = exchange(raw)
        check(response.status in (400, 414, 431), f'{what}: expected 400/414/431, got {response!r}')
        expect_closed(sock, what)
        alive(what)
    # Slowloris: header lines without end, sent on a thread; the server must give up once its
    # bounded head buffer is full (the answer arrives while the sender still has 4 MiB to go).
    sock = connect()
    stop = threading.Event()

    def trickle():
        try:
            sock.sendall(b'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n')
            for i in range(1 << 16):
                if stop.is_set():
                    return
                sock.sendall(b'X-Slow-%d: %s\r\n' % (i, b'z' * 50))
        except OSError:
            pass
    sender = threading.Thread(target=trickle)
    sender.start()
    response = read_response(sock)
    stop.set()
    check(response.status in (400, 431), f'endless head: expected 400/431, got {response!r}')
    sender.join()
    sock.close()


def stalled_head():
    """A head that never ends but stays small, and a connection that never sends anything: both
    closed once the server's head timeout (the test passes --head-timeout 1) has passed. The reads
    block until the server acts; the socket timeout only turns a server that never does into a failure."""
    for what, raw in [('stalled head', b'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nX-Slow: a'),
                      ('silent connection', b'')]:
        sock = connect()
        sock.sendall(raw)
        expect_closed(sock, what)
        sock.close()
        alive(what)
    # A connection that completed a request is timed again after its response.
    response, sock = exchange(f'GET {eio_path()} HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
    check(response.status == 200, f'handshake before idling: {response!r}')
    expect_closed(sock, 'idle keep-alive connection')
    sock.close()


def engineio_http():
    """Engine.IO requests the server cannot take: engine.io's status and JSON error code."""
    expect_error(request('GET', '/socket.io/?EIO=5&transport=polling'), 400, 5, 'EIO=5')
    expect_error(request('GET', '/socket.io/?EIO=abc&transport=polling'), 400, 5, 'EIO=abc')
    expect_error(request('GET', '/socket.io/?transport=polling'), 400, 5, 'no EIO')
    expect_error(request('GET', '/socket.io/?EIO=4&transport=flashsocket'), 400, 0, 'unknown transport')
    # python-engineio takes a request without transport for polling (`environ.get(.., 'polling')`);
    # engine.io's verify() finds no such transport: UNKNOWN_TRANSPORT.
    expect_error(request('GET', '/socket.io/?EIO=4'), 400, 0, 'no transport', python=200)
    # engine.io answers a handshake with another method than GET BAD_HANDSHAKE_METHOD; aiohttp
    # routes only GET and POST to python-engineio, and answers 405 itself.
    expect_error(request('PUT', '/socket.io/?EIO=4&transport=polling'), 400, 2, 'PUT handshake', python=405)
    expect_error(poll('nosuchsid0123456789'), 400, 1, 'GET with an unknown sid')
    expect_error(post('nosuchsid0123456789', b'40'), 400, 1, 'POST with an unknown sid')
    sock = None
    try:
        head = (f'GET {eio_path(sid="nosuchsid0123456789", transport="websocket")} HTTP/1.1\r\nHost: x\r\n'
                'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                'Sec-WebSocket-Version: 13\r\n\r\n')
        response, sock = exchange(head.encode())
        expect_error(response, 400, 1, 'WebSocket with an unknown sid')
    finally:
        if sock:
            sock.close()
    # A WebSocket request without the Upgrade header.
    expect_error(request('GET', eio_path(transport='websocket')), 400, 3, 'websocket transport without Upgrade')
    # Stale sid: the client closed the session.
    sid = open_polling()
    check(post(sid, b'1').status == 200, 'the close packet was refused')
    expect_error(poll(sid), 400, 1, 'GET after the session was closed')
    expect_error(post(sid, b'40'), 400, 1, 'POST after the session was closed')
    # Polling on a session that has upgraded to WebSocket (engine.io: 400 Bad request).
    sid = open_polling()
    sock, _ = ws_connect(eio_path(sid=sid, transport='websocket'))
    sock.sendall(text(b'2probe'))
    check(next_message(sock) == b'3probe', 'no 3probe')
    check(poll(sid).body == b'6', 'the GET during the upgrade was not answered with a noop')
    sock.sendall(text(b'5'))
    expect_error(poll(sid), 400, 3, 'GET after the upgrade')
    sock.close()


def http_body():
    """POST bodies the server must refuse, a legal chunked body, two GETs at once."""
    sid = open_polling()
    path = eio_path(sid=sid).encode()
    for what, headers in {
        'Content-Length not a number': b'Content-Length: abc\r\n',
        'negative Content-Length': b'Content-Length: -1\r\n',
        'two different Content-Lengths': b'Content-Length: 2\r\nContent-Length: 3\r\n',
        'Content-Length and chunked': b'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n',
        'unknown Transfer-Encoding': b'Transfer-Encoding: gzip, bogus\r\n',
    }.items():
        response, sock = exchange(b'POST ' + path + b' HTTP/1.1\r\nHost: x\r\n' + headers + b'\r\n40')
        check(response.status in (400, 501), f'{what}: expected 400, got {response!r}')
        expect_closed(sock, what)
        alive(what)
    response, sock = exchange(b'POST ' + path + b' HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
                              b'zz\r\n40\r\n0\r\n\r\n')
    check(response.status == 400, f'bad chunk size: expected 400, got {response!r}')
    expect_closed(sock, 'bad chunk size')
    # Oversized bodies (maxPayload is 1000000): 413, as engine.io; memory stays bounded.
    expect_error(post(sid, b'4' + b'x' * 1_500_000), 413, None, 'oversized POST')
    big = b'4' + b'x' * (4 << 20)
    chunks = b''.join(b'%x\r\n%s\r\n' % (len(big[i:i + 65536]), big[i:i + 65536]) for i in range(0, len(big), 65536))
    response, sock = exchange(b'POST ' + path + b' HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
                              + chunks + b'0\r\n\r\n')
    expect_error(response, 413, None, 'oversized chunked POST')
    sock.close()
    # A chunked body is legal HTTP/1.1: the CONNECT in it is taken.
    response, sock = exchange(b'POST ' + path + b' HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
                              b'1\r\n4\r\n1\r\n0\r\n0\r\n\r\n')
    sock.close()
    check(response.status == 200, f'chunked POST refused: {response!r}')
    response = poll(sid)
    check(response.body.startswith(b'40{"sid":'), f'the chunked CONNECT was not answered: {response!r}')
    # Two GETs at once on the same sid: engine.io ends the session ("overlap from client"); the
    # second GET gets 400, the first is released, later requests for the sid get 400.
    get = f'GET {eio_path(sid=sid)} HTTP/1.1\r\nHost: x\r\n\r\n'.encode()
    first, second = connect(), connect()
    first.sendall(get)
    second.sendall(get)
    answers = sorted([read_response(first).status, read_response(second).status])
    check(answers == [200, 400], f'two GETs at once: expected one 200 and one 400, got {answers}')
    first.close()
    second.close()
    expect_error(poll(sid), 400, 1, 'GET after the overlapping GETs')


def payloads():
    """Malformed polling payloads: answered, reported as unmatched, the session goes on."""
    sid = open_polling()
    for body in [b'', b'9unknown', b'4hello\x1e', b'\x1e\x1e', b'b!!!not-base64', b'2:40', b'4a\x1e9z\x1e40']:
        response = post(sid, body)
        check(response.status in (200, 400), f'v4 POST {body!r}: {response!r}')
    check(post(sid, b'40').status == 200, 'v4: a well-formed POST after the malformed ones was refused')
    response = poll(sid)
    check(b'40{"sid":' in response.body, f'v4: the session did not survive malformed payloads: {response!r}')
    # Engine.IO v3: text payloads are length-prefixed, binary ones (XHR2) use type/length bytes.
    sid = open_polling(3, '&b64=1')
    for body in [b'99:4hi', b'abc:4', b'3:4', b'2:40\x1e2:40', b'0:', b'10:b4!!!!!!!!', b'4hello', b':::']:
        response = post(sid, body, 3, extra='&b64=1')
        check(response.status in (200, 400), f'v3 POST {body!r}: {response!r}')
    for body in [b'\x00\x09\x09\xff4hi', b'\x02\x01\xff4', b'\x00\x01', b'\x01\xff']:
        response = post(sid, body, 3, content_type='application/octet-stream')
        check(response.status in (200, 400), f'v3 binary POST {body!r}: {response!r}')
    check(post(sid, b'2:41', 3, extra='&b64=1').status == 200, 'v3: a well-formed POST was refused')
    check(post(sid, b'1:1', 3, extra='&b64=1').status == 200, 'v3: the close packet was refused')


def socketio():
    """Malformed Socket.IO packets over WebSocket: reported, no reply, the session goes on."""
    sock = ws_session()
    sock.sendall(text(b'40'))
    check((next_message(sock) or b'').startswith(b'40{"sid":'), 'no CONNECT reply')
    for bad in BAD_SOCKETIO_PACKETS + [
        b'4',                               # empty message
        b'9unknown',                        # unknown Engine.IO packet type
        b'',                                # empty Engine.IO packet
    ]:
        sock.sendall(text(bad))
    # Attachments: one missing (a text packet comes first), one more than announced, none announced.
    sock.sendall(text(b'451-["bin",{"_placeholder":true,"num":0}]'))
    sock.sendall(text(b'452-["bin2",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'))
    sock.sendall(binary(b'\x01\x02'))
    sock.sendall(binary(b'\x03'))
    sock.sendall(binary(b'\x04'))
    sock.sendall(binary(b'\x05'))
    # A round trip: every packet above has been handled once the pong comes back.
    sock.sendall(text(b'2sync'))
    check(wait_for(sock, b'3') == b'3sync', 'no pong after the malformed Socket.IO packets')
    # Once the session is paired (its first EVENT), a CONNECT to a namespace the recording does not
    # have there is refused as engine.io's Socket.IO server words it, not left unanswered.
    sock.sendall(text(b'42["not-recorded"]'))
    sock.sendall(text(b'40/nowhere,'))
    refusal = wait_for(sock, b'44/nowhere,')
    check(refusal == b'44/nowhere,{"message":"Invalid namespace"}', f'CONNECT to /nowhere answered {refusal!r}')
    sock.sendall(frame(0x8, (1000).to_bytes(2, 'big')))
    sock.close()


def websocket():
    """WebSocket protocol errors: the right close code each time (RFC 6455 §7.4.1)."""
    def each(what, code, *frames, headers=''):
        sock = ws_session(headers=headers)
        try:
            for data in frames:
                sock.sendall(data)
        except OSError:
            pass
        expect_close(sock, code, what)
        alive(what)

    each('invalid UTF-8 in a text frame', 1007, text(b'42["\xff\xfe"]'))
    each('invalid UTF-8 across fragments', 1007, text(b'42["\xe2', fin=False), frame(0x0, b'\x28\xa1"]'))
    each('unmasked text frame', 1002, text(b'40', mask=False))
    each('unmasked ping', 1002, frame(0x9, b'p', mask=False))
    each('continuation without a start', 1002, frame(0x0, b'40'))
    each('new message before the fragmented one ended', 1002, text(b'4', fin=False), text(b'0'))
    each('RSV1 without a negotiated extension', 1002, frame(0x1, b'40', rsv1=True))
    each('RSV2', 1002, bytes([0xA1, 0x82, 0, 0, 0, 0]) + b'40')
    each('RSV3', 1002, bytes([0x91, 0x82, 0, 0, 0, 0]) + b'40')
    each('reserved data opcode 0x3', 1002, frame(0x3, b'40'))
    each('reserved control opcode 0xB', 1002, frame(0xB, b''))
    each('control frame longer than 125 bytes', 1002, frame(0x9, b'p' * 126))
    each('fragmented control frame', 1002, frame(0x9, b'p', fin=False))
    each('frame announcing 2^62 bytes', 1009, bytes([0x81, 0xFF]) + (1 << 62).to_bytes(8, 'big') + b'\0\0\0\0')
    each('fragments adding up to 4 MiB', 1009,
         text(b'4' + b'x' * 65535, fin=False), *[frame(0x0, b'x' * 65536, fin=False) for _ in range(63)])
    # The server does not negotiate permessage-deflate, so a compressed frame (RSV1) is refused
    # before anything is inflated: no deflate bomb can go off.
    sock, response = ws_connect(headers='Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n')
    check('sec-websocket-extensions' not in response.headers, f'deflate negotiated: {response.headers}')
    sock.close()
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    bomb = deflater.compress(b'42["' + b'\x00' * (64 << 20)) + deflater.flush(zlib.Z_SYNC_FLUSH)[:-4]
    each('deflate bomb (64 KiB inflating to 64 MiB) after a refused offer', 1002, frame(0x1, bomb, rsv1=True),
         headers='Sec-WebSocket-Extensions: permessage-deflate\r\n')
    # Legal: a ping between the fragments of a message, then the message itself.
    sock = ws_session()
    sock.sendall(text(b'4', fin=False) + frame(0x9, b'between') + frame(0x0, b'0', fin=False) + frame(0x0, b''))
    opcode, payload = read_frame(sock)
    check(opcode == 0xA and payload == b'between', f'no pong between fragments: {opcode} {payload!r}')
    reply = next_message(sock)
    check((reply or b'').startswith(b'40{"sid":'), f'fragmented CONNECT answered {reply!r}')
    sock.sendall(frame(0x8, (1000).to_bytes(2, 'big')))
    sock.close()


def flood():
    """Floods: a client that sends and never reads, hoarded attachments, many sessions."""
    # Pings from a client that never reads the pongs: the server must stop reading instead of
    # queueing pongs without bound. The sender stops when all 256 MiB went out or when the
    # server stopped taking them (the socket timeout: what a server with backpressure does).
    sock = ws_session()
    sock.settimeout(5)
    ping = frame(0x9, b'p' * 125)
    burst = ping * 8192
    try:
        for _ in range((256 << 20) // len(burst)):
            sock.sendall(burst)
    except socket.timeout:
        pass
    except OSError as error:
        fail(f'ping flood: {error}')
    mark('pings-sent')
    sock.close()
    # A packet announcing 100000 attachments, then 128 MiB of them: the server must not hoard them.
    sock = ws_session()
    sock.sendall(text(b'40'))
    next_message(sock)
    sock.sendall(text(b'45100000-["hoard",' + b'{"_placeholder":true,"num":0},' * 3 + b'1]'))
    attachment = binary(b'\xab' * 999_000)
    for _ in range(8):
        sock.sendall(attachment * 16)
        # A round trip every 16 MiB: the server has taken them, and its heartbeat pings are answered
        # (wait_for does) however slowly a busy machine moves 128 MiB.
        sock.sendall(text(b'2sync'))
        check(wait_for(sock, b'3') == b'3sync', 'no pong during the attachment flood')
    mark('attachments-sent')
    sock.close()
    # 3000 sessions opened on one keep-alive connection and left.
    sock = connect()
    for _ in range(3000):
        sock.sendall(f'GET {eio_path()} HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
        response = read_response(sock)
        if not check(response.status == 200, f'handshake flood: {response!r}'):
            break
    sock.close()
    mark('sessions-opened')


SCENARIOS = {
    'http-head': http_head,
    'stalled-head': stalled_head,
    'engineio-http': engineio_http,
    'http-body': http_body,
    'payloads': payloads,
    'socketio': socketio,
    'websocket': websocket,
    'flood': flood,
}


# The scenarios whose expectations are engine.io's answers, and so have a --reference mode.
REFERENCE_SCENARIOS = {'engineio-http'}


def main():
    global ADDRESS, REFERENCE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--scenario', required=True, choices=sorted(SCENARIOS))
    parser.add_argument('--reference', action='store_true',
                        help='the server is python-engineio (engineio_reference.py): check the expectations against it')
    args = parser.parse_args()
    if args.reference and args.scenario not in REFERENCE_SCENARIOS:
        parser.error(f'--reference: only {", ".join(sorted(REFERENCE_SCENARIOS))}')
    REFERENCE = args.reference
    url = urllib.parse.urlsplit(args.url)
    ADDRESS = (url.hostname, url.port)
    for what, step in [(args.scenario, SCENARIOS[args.scenario]), ('healthy session after it', healthy)]:
        try:
            step() if step is not healthy else healthy(args.scenario)
        except (OSError, AssertionError, ValueError) as error:
            where = traceback.extract_tb(error.__traceback__)
            fail(f'{what}: {type(error).__name__}: {error} at '
                 + ' < '.join(f'{f.name}:{f.lineno}' for f in reversed(where)))
    print(json.dumps({'scenario': args.scenario, 'failures': FAILURES}), flush=True)


if __name__ == '__main__':
    main()
