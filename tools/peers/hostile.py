"""Hostile or broken peers on both sides of ``siotape record``, with raw sockets, for the hardening tests.

    hostile.py --scenario NAME

Plays the upstream AND the client, so it controls every byte on both sides and checks that the
proxy relays them untouched. It listens on 127.0.0.1 (port 0), prints ``READY <port>`` (start
``siotape record --upstream http://127.0.0.1:<port>``), then reads ``PROXY <port>`` from stdin and
runs the scenario through the proxy. Every exchange is checked byte for byte: what one side sent
must be exactly what the other side received (request heads may only gain the ``X-Forwarded-*``
lines). Each scenario ends with a well-formed WebSocket session (``42["after",<scenario>]`` both
ways) to show the proxy still works.

Lines on stdout: ``MARK <name>`` at the moments a test may measure the proxy (it then answers
``GO`` on stdin), and finally one JSON document ``{"scenario": .., "failures": [..]}``; exit 0.

Scenarios: see SCENARIOS at the end. No step waits on time; socket timeouts only turn a hang of
the proxy into a failure report.
"""
import argparse
import base64
import gzip
import json
import os
import socket
import struct
import sys
import threading
import traceback
import zlib

TIMEOUT = 60
FAILURES = []


def fail(what):
    FAILURES.append(what)


def mark(name):
    print(f'MARK {name}', flush=True)
    line = sys.stdin.readline()
    if line.strip() != 'GO':
        fail(f'expected GO after MARK {name}, got {line!r}')


def recv_exactly(sock, count):
    chunks = []
    remaining = count
    while remaining > 0:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b''.join(chunks)


def recv_until(sock, terminator, limit=1 << 20):
    data = b''
    while terminator not in data:
        chunk = sock.recv(1)
        if not chunk:
            break
        data += chunk
        if len(data) > limit:
            break
    return data


def recv_to_eof(sock):
    chunks = []
    while True:
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            return b''.join(chunks), 'reset'
        if not chunk:
            return b''.join(chunks), 'eof'
        chunks.append(chunk)


def send_async(sock, data):
    """sendall on a thread of its own: the proxy relays with backpressure, so a large send only
    completes while the other side is being read."""
    def run():
        try:
            sock.sendall(data)
        except OSError as error:
            fail(f'send of {len(data)} bytes failed: {error}')
    thread = threading.Thread(target=run)
    thread.start()
    return thread


def differ(sent, got):
    """Where two byte strings part, for failure messages."""
    at = next((i for i, (a, b) in enumerate(zip(sent, got)) if a != b), min(len(sent), len(got)))
    return f', first difference at byte {at}: sent {sent[at:at + 40]!r}, received {got[at:at + 40]!r}'


def strip_forwarded(head):
    lines = head.split(b'\r\n')
    return b'\r\n'.join(line for line in lines if not line.lower().startswith(b'x-forwarded-'))


def zero_window_probes(sock):
    """(zero-window probes answered with a zero window in a row, the peer's advertised receive
    window in bytes) from Linux's `struct tcp_info`: `tcpi_backoff` at byte 4 (the probe timer's
    backoff: it grows by one per probe while the window stays shut, and is reset when it opens),
    `tcpi_snd_wnd` at byte 228 (Linux 5.4 and later)."""
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    window = struct.unpack_from('I', raw, 228)[0] if len(raw) >= 232 else 0
    return raw[4], window


def reset(sock):
    """Closes with RST instead of FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
    sock.close()


def frame(opcode, payload, fin=True, mask=True, rsv1=False, length=None):
    """One WebSocket frame; ``length`` overrides the header's payload length."""
    first = (0x80 if fin else 0) | (0x40 if rsv1 else 0) | opcode
    n = len(payload) if length is None else length
    if n < 126:
        header = bytes([first, (0x80 if mask else 0) | n])
    elif n < 65536:
        header = bytes([first, (0x80 if mask else 0) | 126]) + struct.pack('!H', n)
    else:
        header = bytes([first, (0x80 if mask else 0) | 127]) + struct.pack('!Q', n)
    if not mask:
        return header + payload
    key = b'\x12\x34\x56\x78'
    masked = bytes(b ^ key[i & 3] for i, b in enumerate(payload)) if len(payload) < 65536 else _mask_big(payload, key)
    return header + key + masked


def _mask_big(payload, key):
    n = len(payload)
    repeated = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, 'big') ^ int.from_bytes(repeated, 'big')).to_bytes(n, 'big')


def text(payload, **kw):
    return frame(0x1, payload, **kw)


def binary(payload, **kw):
    return frame(0x2, payload, **kw)


class Pair:
    """One client connection through the proxy and the upstream connection the proxy opened for it."""

    def __init__(self, listener, proxy_port, label):
        self.label = label
        self.client = socket.create_connection(('127.0.0.1', proxy_port), timeout=TIMEOUT)
        self.upstream, _ = listener.accept()
        self.upstream.settimeout(TIMEOUT)

    def request(self, head, response_head, body=b'', response_body=b''):
        """Sends a request head (+ body) and answers it; checks both arrive as sent."""
        sending = send_async(self.client, head + body)
        got = recv_until(self.upstream, b'\r\n\r\n')
        if strip_forwarded(got) != head:
            fail(f'{self.label}: upstream got head {got[:300]!r}, client sent {head[:300]!r}')
        if body:
            self.c2s_expect(body, 'request body')
        sending.join()
        self.s2c(response_head + response_body, 'response')

    def websocket(self, path='/socket.io/?EIO=4&transport=websocket', extensions=None):
        head = (f'GET {path} HTTP/1.1\r\nHost: hostile.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n').encode()
        response = (b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                    b'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n')
        if extensions:
            response += f'Sec-WebSocket-Extensions: {extensions}\r\n'.encode()
        self.request(head, response + b'\r\n')
        return self

    def c2s(self, data, what=''):
        sending = send_async(self.client, data)
        self.c2s_expect(data, what)
        sending.join()

    def c2s_expect(self, data, what):
        got = recv_exactly(self.upstream, len(data))
        if got != data:
            fail(f'{self.label}: {what} client→upstream: {len(data)} bytes sent, {len(got)} received{differ(data, got)}')

    def s2c(self, data, what=''):
        sending = send_async(self.upstream, data)
        got = recv_exactly(self.client, len(data))
        sending.join()
        if got != data:
            fail(f'{self.label}: {what} upstream→client: {len(data)} bytes sent, {len(got)} received{differ(data, got)}')

    def both(self, client_bytes, upstream_bytes, what=''):
        self.c2s(client_bytes, what)
        self.s2c(upstream_bytes, what)

    def close(self):
        self.client.close()
        self.upstream.close()


def open_eio(pair, sid):
    handshake = ('0{"sid":"%s","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}' % sid)
    pair.s2c(text(handshake.encode(), mask=False), 'handshake')
    pair.c2s(text(b'40'), 'connect')
    pair.s2c(text(b'40{"sid":"nsp-' + sid.encode() + b'"}', mask=False), 'connect reply')


def after(listener, proxy_port, scenario):
    """A well-formed session once the hostile part is over: the proxy still relays and decodes."""
    pair = Pair(listener, proxy_port, 'after').websocket()
    open_eio(pair, 'after-' + scenario)
    event = b'42["after","' + scenario.encode() + b'"]'
    pair.both(text(event), text(event, mask=False), 'after')
    pair.both(frame(0x8, b'\x03\xe8'), frame(0x8, b'\x03\xe8', mask=False), 'close')
    pair.close()


# --- Scenarios -------------------------------------------------------------------------------

def engineio_websocket(listener, port):
    """Malformed Engine.IO packets over WebSocket, both directions."""
    pair = Pair(listener, port, 'eio-ws').websocket()
    open_eio(pair, 'eio-ws')
    for bad in [b'9unknown', b'', b'x', b'4', b'\x00\x01']:
        pair.both(text(bad), text(bad, mask=False), f'text {bad!r}')
    # v4 binary frames are messages (attachments); an unknown-type binary is fine in v4.
    pair.both(binary(b'\xff\xfe'), binary(b'\xff\xfe', mask=False), 'stray binary')
    pair.close()
    # Engine.IO v3 over WebSocket: a binary frame's first byte is the packet type.
    pair = Pair(listener, port, 'eio3-ws').websocket('/socket.io/?EIO=3&transport=websocket')
    pair.s2c(text(b'0{"sid":"eio3-ws","upgrades":[],"pingInterval":25000,"pingTimeout":5000}', mask=False))
    for bad in [b'\x09abc', b'']:
        pair.both(binary(bad), binary(bad, mask=False), f'v3 binary {bad!r}')
    pair.close()


# Engine.IO messages (`4...`) whose Socket.IO packet is malformed (hostile_client.py uses them too).
BAD_SOCKETIO_PACKETS = [
    b'40admin,{}',                      # namespace without its slash
    b'42abc["x"]',                      # ack id that is not a number
    b'4299999999999999999999999["x"]',  # ack id beyond 64 bits
    b'42["unterminated",',              # invalid JSON
    b'42{"not":"an array"}',            # EVENT payload must be an array
    b'42["x"]trailing',                 # bytes after the JSON value
    b'49',                              # unknown Socket.IO type
    b'451x-["e"]',                      # attachment count that is not a number
    b'4599999999999999999999-["e"]',    # attachment count beyond 64 bits
]


def socketio_websocket(listener, port):
    """Malformed Socket.IO packets over WebSocket, both directions."""
    pair = Pair(listener, port, 'sio-ws').websocket()
    open_eio(pair, 'sio-ws')
    for bad in BAD_SOCKETIO_PACKETS:
        pair.both(text(bad), text(bad, mask=False), f'sio {bad!r}')
    # Wrong attachment counts: one announced, two sent (the second is stray).
    pair.both(text(b'451-["bin",{"_placeholder":true,"num":0}]'),
              text(b'451-["bin",{"_placeholder":true,"num":0}]', mask=False), 'binary event')
    pair.both(binary(b'\x01\x02'), binary(b'\x01\x02', mask=False), 'attachment 1')
    pair.both(binary(b'\x03\x04'), binary(b'\x03\x04', mask=False), 'extra attachment')
    # Missing attachments: two announced, one sent, then a new packet.
    pair.both(text(b'452-["bin2",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'),
              text(b'452-["bin2",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]', mask=False), 'b2')
    pair.both(binary(b'\x05'), binary(b'\x05', mask=False), 'one of two')
    pair.both(text(b'42["next"]'), text(b'42["next"]', mask=False), 'next packet')
    # A huge announced count followed by many attachments: the capture must not hoard them.
    pair.both(text(b'45100000-["hoard",{"_placeholder":true,"num":0}]'),
              text(b'45100000-["hoard",{"_placeholder":true,"num":0}]', mask=False), 'hoard')
    chunk = os.urandom(1 << 20)
    for i in range(40):
        pair.c2s(binary(chunk), f'hoard attachment {i}')
    pair.close()


def invalid_utf8(listener, port):
    pair = Pair(listener, port, 'utf8').websocket()
    open_eio(pair, 'utf8')
    for bad in [b'42["\xff\xfe"]', b'4\xc3\x28', b'9\xed\xa0\x80']:
        pair.both(text(bad), text(bad, mask=False), f'utf8 {bad!r}')
    pair.close()


def fragments(listener, port):
    """Fragmented messages with control frames between the fragments, then a broken sequence."""
    pair = Pair(listener, port, 'frag').websocket()
    open_eio(pair, 'frag')
    for mask in (True, False):
        send = pair.c2s if mask else pair.s2c
        send(text(b'42["frag', fin=False, mask=mask)
             + frame(0x9, b'ping!', mask=mask)
             + frame(0x0, b'mented",', fin=False, mask=mask)
             + frame(0xA, b'pong!', mask=mask)
             + frame(0x0, b'1]', mask=mask), 'fragmented')
        # Illegal: a new text frame before the fragmented message ended, then a fragmented ping.
        send(text(b'42["a', fin=False, mask=mask) + text(b'42["b"]', mask=mask)
             + frame(0x9, b'x', fin=False, mask=mask), 'interleaved')
        send(b'\x00' * 1000, 'garbage after the damage')
    pair.close()


def oversized(listener, port):
    """A 20 MiB WebSocket message each way (over the 16 MiB decode limit), then normal traffic."""
    pair = Pair(listener, port, 'oversize').websocket()
    open_eio(pair, 'oversize')
    big = b'4' + b'x' * (20 << 20)
    pair.both(binary(big), binary(big, mask=False), 'big')
    pair.both(text(b'42["small"]'), text(b'42["small"]', mask=False), 'small after big')
    # A frame header announcing 2^62 bytes, followed by little: relayed, the rest undecoded.
    pair.c2s(text(b'', length=1 << 62) + b'y' * 100, 'absurd length')
    pair.close()
    # Oversized polling bodies (POST over 16 MiB) and an oversized request head.
    pair = Pair(listener, port, 'big-body')
    body = b'4' + b'z' * (17 << 20)
    head = (f'POST /socket.io/?EIO=4&transport=polling&sid=bigbody HTTP/1.1\r\nHost: h\r\n'
            f'Content-Type: text/plain\r\nContent-Length: {len(body)}\r\n\r\n').encode()
    pair.request(head, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', body, b'ok')
    pair.close()
    pair = Pair(listener, port, 'big-head')
    huge = b'GET /x HTTP/1.1\r\nHost: h\r\n' + b''.join(b'X-Filler-%d: %s\r\n' % (i, b'f' * 1000) for i in range(80))
    pair.c2s(huge + b'\r\n', 'huge head')
    pair.s2c(b'HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n', '431')
    pair.close()


def deflate_bomb(listener, port):
    """permessage-deflate: a 2 MiB frame that inflates to 2 GiB, each way, then a normal message."""
    pair = Pair(listener, port, 'bomb').websocket(extensions='permessage-deflate')
    open_eio(pair, 'bomb')
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    zeros = bytes(1 << 20)
    first = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
    # Once the window is all zeros, every further MiB of zeros compresses to the same block.
    repeat = compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
    bomb = first + repeat * 2047
    assert bomb.endswith(b'\x00\x00\xff\xff')
    bomb = bomb[:-4]
    pair.both(text(bomb, rsv1=True), text(bomb, rsv1=True, mask=False), 'bomb')
    fresh = zlib.compressobj(6, zlib.DEFLATED, -15)
    small = fresh.compress(b'42["after-bomb"]') + fresh.flush(zlib.Z_SYNC_FLUSH)
    pair.both(text(small[:-4], rsv1=True), text(small[:-4], rsv1=True, mask=False), 'after bomb')
    pair.close()


def polling(listener, port):
    """Malformed polling payloads (v4 and v3) in requests and responses, and compressed bodies."""
    def exchange(label, path, request_body, response_body, response_headers=b''):
        pair = Pair(listener, port, label)
        head = (f'POST {path} HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain;charset=UTF-8\r\n'
                f'Content-Length: {len(request_body)}\r\n\r\n').encode()
        pair.request(head, b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n', request_body, b'ok')
        get = f'GET {path} HTTP/1.1\r\nHost: h\r\n\r\n'.encode()
        answer = (b'HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=UTF-8\r\n' + response_headers
                  + b'Content-Length: %d\r\n\r\n' % len(response_body))
        pair.request(get, answer, response_body=response_body)
        pair.close()

    v4 = '/socket.io/?EIO=4&transport=polling&sid=poll4'
    v3 = '/socket.io/?EIO=3&transport=polling&sid=poll3'
    for label, body in [('v4-separators', b'42["a"]\x1e\x1e\x1e42["b"]'), ('v4-badb64', b'42["a"]\x1ebAAA!!!'),
                        ('v4-unknown', b'9zz\x1e42["c"]')]:
        exchange(label, v4, body, body)
    for label, body in [('v3-badlength', b'99:42["a"]'), ('v3-nolength', b':42["a"]'),
                        ('v3-nonnumeric', b'x1:4'), ('v3-zero', b'0:'), ('v3-badb64', b'6:b4!!!!')]:
        exchange(label, v3, body, body)
    binary_body = b'\x00\x09\xff4abc' + b'\x01\x01\xff'
    exchange('v3-binary', v3, binary_body, binary_body, b'Content-Type: application/octet-stream\r\n')
    # A compressed polling answer (python-engineio compresses answers over 1 KiB for gzip clients).
    payload = b'42["gzipped",' + json.dumps('g' * 2000).encode() + b']\x1e42["second"]'
    exchange('gzip', v4, b'42["plain"]', gzip.compress(payload), b'Content-Encoding: gzip\r\n')
    exchange('deflate', v4, b'42["plain"]', zlib.compress(b'42["deflated"]'), b'Content-Encoding: deflate\r\n')
    exchange('gzip-broken', v4, b'42["plain"]', b'\x1f\x8b\x08\x00garbage', b'Content-Encoding: gzip\r\n')
    # A gzip bomb: 64 MiB of zeros in a small body.
    exchange('gzip-bomb', v4, b'42["plain"]', gzip.compress(bytes(64 << 20), 1), b'Content-Encoding: gzip\r\n')
    # An upstream that answers with something that is not HTTP, without a blank line, and closes.
    pair = Pair(listener, port, 'garbage-response')
    pair.request(b'GET /ssh HTTP/1.1\r\nHost: h\r\n\r\n', b'')
    pair.upstream.sendall(b'SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n')
    pair.upstream.close()
    rest, how = recv_to_eof(pair.client)
    if rest != b'SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n' or how != 'eof':
        fail(f'garbage-response: the client got {rest!r} ({how})')
    pair.client.close()
    # Not HTTP at all: a TLS ClientHello to a plain port is relayed as it is.
    pair = Pair(listener, port, 'not-http')
    pair.both(b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + bytes(60) + b'\r\n\r\n', b'\x15\x03\x01\x00\x02\x02\x28')
    pair.close()
    # The same without a blank line anywhere: it reaches the upstream at once, not at the close.
    pair = Pair(listener, port, 'not-http-no-blank-line')
    pair.both(b'\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + bytes(60), b'\x15\x03\x01\x00\x02\x02\x28')
    pair.close()


SCENARIOS = {
    'engineio-websocket': engineio_websocket,
    'socketio-websocket': socketio_websocket,
    'invalid-utf8': invalid_utf8,
    'fragments': fragments,
    'oversized': oversized,
    'deflate-bomb': deflate_bomb,
    'polling': polling,
}


# --- Network faults --------------------------------------------------------------------------

def upstream_dies(listener, port):
    """The upstream closes (FIN) in the middle of a WebSocket session: the client sees the end."""
    pair = Pair(listener, port, 'upstream-dies').websocket()
    open_eio(pair, 'upstream-dies')
    pair.s2c(text(b'42["last words"]', mask=False))
    pair.upstream.close()
    rest, how = recv_to_eof(pair.client)
    if rest or how != 'eof':
        fail(f'upstream-dies: the client got {rest[:100]!r} and {how} instead of a clean end')
    pair.client.close()


def upstream_resets(listener, port):
    """The upstream sends a frame and resets (RST) mid-session: the client gets the frame, then a reset
    (not an end: clients tell "connection reset" from "the server closed")."""
    pair = Pair(listener, port, 'upstream-resets').websocket()
    open_eio(pair, 'upstream-resets')
    last = text(b'42["last words"]', mask=False)
    # No Nagle: the frame leaves before the RST, which would drop it from the send queue.
    pair.upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pair.upstream.sendall(last)
    reset(pair.upstream)
    rest, how = recv_to_eof(pair.client)
    if rest != last or how != 'reset':
        fail(f'upstream-resets: the client got {rest[:100]!r} then {how}, not the frame then a reset')
    pair.client.close()


def client_resets(listener, port):
    """The client sends an incomplete frame and resets: the upstream gets the bytes, then a reset."""
    pair = Pair(listener, port, 'client-resets').websocket()
    open_eio(pair, 'client-resets')
    half = text(b'42["half a')[:-2]
    pair.client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    pair.client.sendall(half)
    reset(pair.client)
    rest, how = recv_to_eof(pair.upstream)
    if rest != half or how != 'reset':
        fail(f'client-resets: the upstream got {rest[:100]!r} then {how}, not the {len(half)} bytes sent then a reset')
    pair.upstream.close()


def reset_found_by_a_write(pair, resetting, writing, label):
    """``resetting`` resets while ``writing`` sends it a frame, and the proxy learns of the reset from
    the send that fails, not from a read: the test stops the proxy (SIGSTOP at ``MARK stop-proxy``),
    the frame reaches the proxy's socket first and the RST after it, and the proxy goes on
    (SIGCONT at ``MARK continue-proxy``). Its event loop then finds the frame first (the epoll ready
    list keeps the order the sockets became ready in), relays it, and the write is what meets the
    reset. ``writing`` must then get a reset, as it would without the proxy, and nothing else."""
    mark('stop-proxy')
    frame_bytes = text(b'42["to a peer that is gone"]', mask=writing is pair.client)
    # No Nagle: the frame leaves at once, before the RST on the other connection.
    writing.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    writing.sendall(frame_bytes)
    reset(resetting)
    mark('continue-proxy')
    rest, how = recv_to_eof(writing)
    if rest or how != 'reset':
        fail(f'{label}: the writing peer got {rest[:100]!r} then {how}, not a reset')
    writing.close()


def client_resets_while_written(listener, port):
    """The client resets while the upstream sends it a frame: the upstream gets a reset."""
    pair = Pair(listener, port, 'client-resets-while-written').websocket()
    open_eio(pair, 'client-resets-while-written')
    reset_found_by_a_write(pair, pair.client, pair.upstream, 'client-resets-while-written')


def upstream_resets_while_written(listener, port):
    """The upstream resets while the client sends it a frame: the client gets a reset."""
    pair = Pair(listener, port, 'upstream-resets-while-written').websocket()
    open_eio(pair, 'upstream-resets-while-written')
    reset_found_by_a_write(pair, pair.upstream, pair.client, 'upstream-resets-while-written')


def half_close_client(listener, port):
    """The client sends its request and shuts down its sending side; the answer still reaches it."""
    pair = Pair(listener, port, 'half-close-client')
    request = b'GET /socket.io/?EIO=4&transport=polling&sid=half HTTP/1.1\r\nHost: h\r\n\r\n'
    pair.client.sendall(request)
    pair.client.shutdown(socket.SHUT_WR)
    got = strip_forwarded(recv_until(pair.upstream, b'\r\n\r\n'))
    rest, how = recv_to_eof(pair.upstream)
    if got != request or rest or how != 'eof':
        fail(f'half-close-client: upstream got {got!r} then {rest!r} ({how})')
    answer = b'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n42["half"]'
    pair.upstream.sendall(answer)
    pair.upstream.close()
    rest, how = recv_to_eof(pair.client)
    if rest != answer or how != 'eof':
        fail(f'half-close-client: the client got {rest!r} ({how})')
    pair.client.close()


def half_close_upstream(listener, port):
    """The upstream answers with a body delimited by its close (FIN); the client can still send."""
    pair = Pair(listener, port, 'half-close-upstream')
    pair.request(b'GET /stream HTTP/1.1\r\nHost: h\r\n\r\n', b'')
    answer = b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n' + b'until close ' * 1000
    pair.upstream.sendall(answer)
    pair.upstream.shutdown(socket.SHUT_WR)
    rest, how = recv_to_eof(pair.client)
    if rest != answer or how != 'eof':
        fail(f'half-close-upstream: the client got {len(rest)} of {len(answer)} bytes ({how})')
    # The client's direction is still open: a request sent now reaches the upstream.
    late = b'POST /late HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nlate'
    pair.client.sendall(late)
    got = strip_forwarded(recv_until(pair.upstream, b'\r\n\r\n')) + recv_exactly(pair.upstream, 4)
    if got != late:
        fail(f'half-close-upstream: after the half-close the upstream got {got!r}')
    pair.client.shutdown(socket.SHUT_WR)
    rest, how = recv_to_eof(pair.upstream)
    if rest or how != 'eof':
        fail(f'half-close-upstream: the upstream got {rest!r} ({how}) instead of the end')
    pair.close()


def slowloris(listener, port):
    """Many clients send half a request head and stop. They cost the proxy little, other clients are
    served meanwhile, and each request goes through, untouched, once its head is complete."""
    pairs = []
    for i in range(200):
        pair = Pair(listener, port, f'slowloris {i}')
        pair.client.sendall(b'GET /slow/%d HTTP/1.1\r\nHost: h\r\nX-Slow: ' % i)
        pairs.append(pair)
    after(listener, port, 'during-slowloris')
    for i, pair in enumerate(pairs):
        pair.client.sendall(b'%d\r\n\r\n' % i)
        got = strip_forwarded(recv_until(pair.upstream, b'\r\n\r\n'))
        if got != b'GET /slow/%d HTTP/1.1\r\nHost: h\r\nX-Slow: %d\r\n\r\n' % (i, i):
            fail(f'slowloris {i}: upstream got {got!r}')
        pair.s2c(b'HTTP/1.1 204 No Content\r\n\r\n', 'answer')
        pair.close()


def never_reads(listener, port):
    """A client asks for 256 MiB and does not read: the proxy must hold the upstream back
    (backpressure), not buffer. Once the upstream cannot send more, the test measures the proxy;
    then the client reads everything and checks it."""
    total = 256 << 20
    chunk = os.urandom(1 << 20)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    client.settimeout(TIMEOUT)
    client.connect(('127.0.0.1', port))
    upstream, _ = listener.accept()
    client.sendall(b'GET /big HTTP/1.1\r\nHost: h\r\n\r\n')
    recv_until(upstream, b'\r\n\r\n')
    head = b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n' % total
    upstream.sendall(head)
    upstream.setblocking(False)
    sent = 0
    view = memoryview(chunk)
    import select
    import time
    deadline = None
    while sent < total:
        offset = sent % len(chunk)
        try:
            sent += upstream.send(view[offset:])
            deadline = None
        except BlockingIOError:
            # No room. The proxy holds back when its own TCP says so, in bytes: it advertises a
            # receive window of 0 and keeps it at 0 through two zero-window probes of the kernel
            # (a proxy that reads, however slowly, opens the window again and the send goes on).
            _, writable, _ = select.select([], [upstream], [], 0.05)
            if writable:
                continue
            probes, window = zero_window_probes(upstream)
            if probes >= 2 and window == 0:
                break
            deadline = deadline or time.monotonic() + TIMEOUT
            if time.monotonic() > deadline:
                fail(f'never-reads: the upstream was blocked for {TIMEOUT} s after {sent} bytes '
                     f'without the proxy closing its window (probes {probes}, window {window})')
                break
    print(f'SENT {sent}', flush=True)
    mark('stalled')
    received = bytearray()

    def read_all():
        got = recv_exactly(client, len(head))
        if got != head:
            fail(f'never-reads: head {got!r}')
        while len(received) < total:
            data = client.recv(1 << 20)
            if not data:
                break
            received.extend(data)

    reader = threading.Thread(target=read_all)
    reader.start()
    upstream.setblocking(True)
    upstream.settimeout(TIMEOUT)
    while sent < total:
        offset = sent % len(chunk)
        sent += upstream.send(view[offset:])
    reader.join()
    if len(received) != total:
        fail(f'never-reads: the client got {len(received)} of {total} bytes')
    elif any(received[i:i + len(chunk)] != chunk for i in range(0, total, len(chunk))):
        fail('never-reads: the bytes differ')
    client.close()
    upstream.close()


def many_connections(listener, port):
    """10,000 connections opened and dropped abruptly (RST, FIN, half a request), 500 at a time."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
    for batch in range(20):
        pairs = [Pair(listener, port, f'drop {batch}/{i}') for i in range(500)]
        for i, pair in enumerate(pairs):
            if i % 3 == 0:
                reset(pair.client)
            elif i % 3 == 1:
                pair.client.sendall(b'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHo')
                reset(pair.client)
            else:
                pair.client.close()
        for pair in pairs:
            rest, how = recv_to_eof(pair.upstream)
            pair.upstream.close()
    print('DROPPED 10000', flush=True)


FAULTS = {
    'upstream-dies': upstream_dies,
    'upstream-resets': upstream_resets,
    'client-resets': client_resets,
    'client-resets-while-written': client_resets_while_written,
    'upstream-resets-while-written': upstream_resets_while_written,
    'half-close-client': half_close_client,
    'half-close-upstream': half_close_upstream,
    'slowloris': slowloris,
    'never-reads': never_reads,
    'many-connections': many_connections,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--scenario', required=True, choices=sorted(SCENARIOS) + sorted(FAULTS))
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('127.0.0.1', 0))
    listener.listen(4096)
    listener.settimeout(TIMEOUT)
    print(f'READY {listener.getsockname()[1]}', flush=True)
    words = sys.stdin.readline().split()
    if len(words) != 2 or words[0] != 'PROXY':
        print(f'hostile.py: expected "PROXY <port>" on stdin, got {words}', file=sys.stderr)
        sys.exit(2)
    proxy_port = int(words[1])
    try:
        if args.scenario in SCENARIOS:
            SCENARIOS[args.scenario](listener, proxy_port)
        else:
            FAULTS[args.scenario](listener, proxy_port)
        after(listener, proxy_port, args.scenario)
    except (OSError, AssertionError) as error:
        where = traceback.extract_tb(error.__traceback__)
        fail(f'{type(error).__name__}: {error} at ' + ' < '.join(f'{f.name}:{f.lineno}' for f in reversed(where)))
    print(json.dumps({'scenario': args.scenario, 'failures': FAILURES}), flush=True)


if __name__ == '__main__':
    main()
