#!/usr/bin/env python3
"""Builds the seed corpora of the fuzz targets from the real captures in the test fixtures.

    tools/fuzz/seeds.py OUT_DIR

Writes OUT_DIR/<Target>/<name> files: whole HTTP streams (FuzzHTTP1), the WebSocket bytes after
each 101 (FuzzWebSocket), long-polling bodies and WebSocket text messages (FuzzEngineIO),
Socket.IO packet texts (FuzzSocketIO), the sample recordings, whole and cut (FuzzRecordingReader), and
each capture as the HAR a browser would have written of it (FuzzHARImport).
Each seed starts with the control bytes its target reads first (see Fuzz/Sources/*/main.swift).
"""
import base64
import gzip
import hashlib
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests" / "CaptureFixtures" / "Fixtures"


def write(out, target, data):
    folder = out / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def streams(conn_file):
    c2s, s2c = bytearray(), bytearray()
    for line in conn_file.read_text().splitlines():
        chunk = json.loads(line)
        if chunk["dir"] == "c2s":
            c2s += base64.b64decode(chunk["b64"])
        elif chunk["dir"] == "s2c":
            s2c += base64.b64decode(chunk["b64"])
    return bytes(c2s), bytes(s2c)


def http_messages(stream):
    """(head, body) pairs up to a 101 or anything unparsable; then the rest of the stream."""
    messages, pos = [], 0
    while pos < len(stream):
        end = stream.find(b"\r\n\r\n", pos)
        if end < 0:
            break
        head = stream[pos:end + 4]
        pos = end + 4
        length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        body = b""
        if length:
            body = stream[pos:pos + int(length.group(1))]
            pos += len(body)
        messages.append((head, body))
        status_line = head.split(b"\r\n")[0] + b" "
        switching = head.startswith(b"HTTP/") and b" 101 " in status_line
        upgrade_request = not head.startswith(b"HTTP/") and b"upgrade: websocket" in head.lower()
        if switching or upgrade_request:
            return messages, stream[pos:]
    return messages, b""


def websocket_texts(frames):
    """Unmasked payloads of uncompressed single-frame text messages."""
    texts, pos = [], 0
    while pos + 2 <= len(frames):
        b0, b1 = frames[pos], frames[pos + 1]
        length, pos = b1 & 0x7F, pos + 2
        if length == 126:
            length, pos = int.from_bytes(frames[pos:pos + 2], "big"), pos + 2
        elif length == 127:
            length, pos = int.from_bytes(frames[pos:pos + 8], "big"), pos + 8
        mask = b""
        if b1 & 0x80:
            mask, pos = frames[pos:pos + 4], pos + 4
        payload = bytearray(frames[pos:pos + length])
        pos += length
        if mask:
            for i in range(len(payload)):
                payload[i] ^= mask[i % 4]
        if b0 & 0x0F == 1 and b0 & 0x80 and not b0 & 0x40:
            texts.append(bytes(payload))
    return texts


def msgpack(value):
    """A small MessagePack packer (canonical headers) for the FuzzMsgPack seeds: no dependency."""
    import struct
    if value is None:
        return b"\xc0"
    if value is True or value is False:
        return b"\xc3" if value else b"\xc2"
    if isinstance(value, int):
        if 0 <= value < 128:
            return bytes([value])
        if -32 <= value < 0:
            return struct.pack(">b", value)
        if value >= 0:
            for marker, fmt, limit in ((0xCC, ">B", 1 << 8), (0xCD, ">H", 1 << 16), (0xCE, ">I", 1 << 32)):
                if value < limit:
                    return bytes([marker]) + struct.pack(fmt, value)
            return b"\xcf" + struct.pack(">Q", value)
        for marker, fmt, limit in ((0xD0, ">b", 1 << 7), (0xD1, ">h", 1 << 15), (0xD2, ">i", 1 << 31)):
            if value >= -limit:
                return bytes([marker]) + struct.pack(fmt, value)
        return b"\xd3" + struct.pack(">q", value)
    if isinstance(value, float):
        return b"\xcb" + struct.pack(">d", value)
    if isinstance(value, str):
        data = value.encode()
        head = bytes([0xA0 | len(data)]) if len(data) < 32 else b"\xd9" + bytes([len(data)])
        return head + data
    if isinstance(value, bytes):
        return b"\xc4" + bytes([len(value)]) + value
    if isinstance(value, list):
        return bytes([0x90 | len(value)]) + b"".join(msgpack(v) for v in value)
    if isinstance(value, dict):
        return bytes([0x80 | len(value)]) + b"".join(msgpack(k) + msgpack(v) for k, v in value.items())
    raise TypeError(value)


def msgpack_seeds(out):
    """msgpack-parser packets as python-socketio and socket.io-client write them."""
    packets = [
        {"type": 0, "data": {"token": "s3cr3t"}, "nsp": "/"},
        {"type": 0, "data": {"sid": "HStQ"}, "nsp": "/admin"},
        {"type": 2, "data": ["echo", "hello", {"k": "\u20ac", "n": [1, 2.5, None, True]}, b"\x01\x02"], "nsp": "/", "id": 1},
        {"type": 3, "data": [{"nested": {"deep": [-1, -200, 70000, 1 << 40]}}], "nsp": "/", "id": 1},
        {"type": 2, "data": ["x"], "options": {"compress": True}, "nsp": "/"},
        {"type": 4, "data": {"message": "Not authorized"}, "nsp": "/"},
        {"type": 1, "data": None, "nsp": "/chat"},
        {1: "non-string key", "$set": float("nan"), "type": 2, "data": ["e", float("inf")], "nsp": "/"},
    ]
    for packet in packets:
        data = msgpack(packet)
        for variant in (0, 1, 2):
            write(out, "FuzzMsgPack", bytes([variant]) + data)
    write(out, "FuzzMsgPack", b"\x01\xd4\x05\x00\xc7\x03\xff\x01\x02\x03\xca\x3f\xc0\x00\x00")


def har_entry(index, head, body, response, response_body, messages=None):
    """One HAR entry of a captured request and its response, 10 ms after the previous one."""
    request_line = head.split(b"\r\n")[0].decode("latin-1").split(" ")
    headers = [line.decode("latin-1").split(":", 1) for line in head.split(b"\r\n")[1:] if b":" in line]
    entry = {
        "startedDateTime": "2026-12-07T10:00:%02d.%03dZ" % (index // 100 % 60, index % 100 * 10),
        "time": 5,
        "request": {"method": request_line[0], "url": "http://127.0.0.1:5000" + request_line[1],
                    "headers": [{"name": n.strip(), "value": v.strip()} for n, v in headers]},
        "response": {"status": int(response.split(b" ")[1]) if response else 0, "headers": [],
                     "content": {"text": base64.b64encode(response_body).decode(), "encoding": "base64"}},
    }
    if body:
        entry["request"]["postData"] = {"mimeType": "text/plain", "text": body.decode("utf-8", "replace")}
    if messages is not None:
        entry["_webSocketMessages"] = messages
    return entry


def har_seeds(out):
    for directory in sorted(path for path in FIXTURES.iterdir() if path.is_dir()):
        entries = []
        for conn_file in sorted(directory.glob("conn-*.jsonl")):
            c2s, s2c = streams(conn_file)
            requests, c2s_rest = http_messages(c2s)
            responses, s2c_rest = http_messages(s2c)
            for (head, body), (response, response_body) in zip(requests, responses):
                messages = None
                if b" 101 " in response.split(b"\r\n")[0] + b" ":
                    texts = [("send", t) for t in websocket_texts(c2s_rest)] + [("receive", t) for t in websocket_texts(s2c_rest)]
                    messages = [{"type": kind, "time": 1796637600.0 + len(entries) * 0.01 + i * 0.001, "opcode": 1,
                                 "data": text.decode("utf-8", "replace")} for i, (kind, text) in enumerate(texts)]
                entries.append(har_entry(len(entries), head, body, response, response_body, messages))
        if entries:
            write(out, "FuzzHARImport", json.dumps({"log": {"version": "1.2", "entries": entries[:40]}}).encode())
    # HARs as browsers wrote them.
    for har in sorted(FIXTURES.glob("browser-har/*.har")):
        write(out, "FuzzHARImport", har.read_bytes())


def main():
    out = pathlib.Path(sys.argv[1])
    msgpack_seeds(out)
    har_seeds(out)
    for conn_file in sorted(FIXTURES.glob("*/conn-*.jsonl")):
        c2s, s2c = streams(conn_file)
        write(out, "FuzzHTTP1", b"\x00\x00" + c2s)
        write(out, "FuzzHTTP1", b"\x01\x05" + s2c)
        requests, c2s_rest = http_messages(c2s)
        responses, s2c_rest = http_messages(s2c)
        deflate = any(b"permessage-deflate" in head for head, _ in responses)
        flags = b"\x0d" if deflate else b"\x00"
        tap_pieces = []
        for direction, rest in ((0, c2s_rest), (1, s2c_rest)):
            tap_pieces += [bytes([direction]) + text for text in websocket_texts(rest)]
            if rest:
                write(out, "FuzzWebSocket", flags + b"\x00" + rest)
                for text in websocket_texts(rest):
                    write(out, "FuzzEngineIO", b"\x03" + text)
                    if text.startswith(b"4"):
                        write(out, "FuzzSocketIO", b"\x00" + text[1:])
        eio3 = any(b"EIO=3" in req.split(b"\r\n")[0] for req, _ in requests)
        if tap_pieces:
            write(out, "FuzzCaptureTap", bytes([1 | (2 if eio3 else 0)]) + b"\x1f".join(tap_pieces))
        polling_pieces = []
        for (req, req_body), (resp, resp_body) in zip(requests, responses):
            version = 3 if b"EIO=3" in req.split(b"\r\n")[0] else 4
            if b"transport=polling" in req.split(b"\r\n")[0]:
                if req_body:
                    polling_pieces.append(b"\x00" + req_body)
                if resp_body and b"sid=" in req.split(b"\r\n")[0]:
                    polling_pieces.append(b"\x01" + resp_body)
            for head, body in ((req, req_body), (resp, resp_body)):
                if not body:
                    continue
                if version == 4:
                    write(out, "FuzzEngineIO", b"\x00" + body)
                    for packet in body.split(b"\x1e"):
                        if packet.startswith(b"4"):
                            write(out, "FuzzSocketIO", b"\x00" + packet[1:])
                elif b"application/octet-stream" in head.lower():
                    write(out, "FuzzEngineIO", b"\x02" + body)
                else:
                    write(out, "FuzzEngineIO", b"\x01" + body)
                    for packet in re.split(rb"\d+:", body):
                        if packet.startswith(b"4"):
                            write(out, "FuzzSocketIO", b"\x01" + packet[1:])
        if polling_pieces:
            write(out, "FuzzCaptureTap", bytes([2 if eio3 else 0]) + b"\x1f".join(polling_pieces))
    for recording in sorted((ROOT / "recordings").glob("*.gz")):
        data = recording.read_bytes()
        write(out, "FuzzRecordingReader", data[:20000])
        write(out, "FuzzRecordingReader", data[:len(data) // 3])
        write(out, "FuzzRecordingReader", gzip.decompress(data)[:8000])


if __name__ == "__main__":
    main()
