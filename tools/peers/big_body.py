"""Plain HTTP bodies far bigger than the body limit, through `siotape record`, for its memory test.

    big_body.py [--download MIB] [--upload MIB]

Starts an upstream on a free port (streaming: it never holds a body in memory) and prints
``READY <port>``; then reads ``PROXY <port>`` on stdin and, as the client, through that proxy:
GET /download (the upstream streams MIB MiB with Content-Length), then POST /upload (the client
streams MIB MiB with Content-Length; the upstream answers the sha256 of what it read). Each side
hashes what it sent and received; the last line is a JSON report
``{"download": {"bytes", "sent", "received"}, "upload": {...}, "failures": [...]}``.
The bytes are 64 KiB chunks of a seeded random block, each starting with its number, so a lost,
repeated or reordered chunk changes the hash.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import random
import struct
import sys
import threading

CHUNK = 64 * 1024
BLOCK = random.Random(20261207).randbytes(CHUNK)


def chunks(total):
    """The body: `total` bytes in 64 KiB chunks, each prefixed with its number."""
    sent = 0
    i = 0
    while sent < total:
        chunk = (struct.pack('>Q', i) + BLOCK[8:])[:total - sent]
        yield chunk
        sent += len(chunk)
        i += 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    download = 0
    sent_digest = None
    sent = threading.Event()

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(Handler.download))
        self.end_headers()
        digest = hashlib.sha256()
        for chunk in chunks(Handler.download):
            digest.update(chunk)
            self.wfile.write(chunk)
        Handler.sent_digest = digest.hexdigest()
        Handler.sent.set()

    def do_POST(self):
        left = int(self.headers['Content-Length'])
        digest = hashlib.sha256()
        read = 0
        while left:
            data = self.rfile.read(min(left, 1 << 20))
            if not data:
                break
            digest.update(data)
            read += len(data)
            left -= len(data)
        body = json.dumps({'bytes': read, 'sha256': digest.hexdigest()}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--download', type=int, default=500, help='MiB')
    parser.add_argument('--upload', type=int, default=100, help='MiB')
    args = parser.parse_args()
    Handler.download = args.download << 20
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f'READY {server.server_address[1]}', flush=True)
    line = sys.stdin.readline().split()
    if len(line) != 2 or line[0] != 'PROXY':
        sys.exit(f'big_body.py: expected PROXY <port>, got {line}')
    port = int(line[1])
    failures = []

    conn = http.client.HTTPConnection('127.0.0.1', port, timeout=60)
    conn.request('GET', '/download')
    response = conn.getresponse()
    digest = hashlib.sha256()
    received = 0
    while True:
        data = response.read(1 << 20)
        if not data:
            break
        digest.update(data)
        received += len(data)
    Handler.sent.wait(60)
    download = {'bytes': received, 'sent': Handler.sent_digest, 'received': digest.hexdigest()}
    if response.status != 200 or received != Handler.download or download['sent'] != download['received']:
        failures.append(f'download: status {response.status}, {received} of {Handler.download} bytes, '
                        f'sha256 sent {download["sent"]} received {download["received"]}')

    total = args.upload << 20
    digest = hashlib.sha256()

    def body():
        for chunk in chunks(total):
            digest.update(chunk)
            yield chunk

    conn.request('POST', '/upload', body=body(), headers={'Content-Length': str(total),
                                                          'Content-Type': 'application/octet-stream'})
    response = conn.getresponse()
    answer = json.loads(response.read())
    upload = {'bytes': answer['bytes'], 'sent': digest.hexdigest(), 'received': answer['sha256']}
    if response.status != 200 or answer['bytes'] != total or upload['sent'] != upload['received']:
        failures.append(f'upload: status {response.status}, {answer["bytes"]} of {total} bytes, '
                        f'sha256 sent {upload["sent"]} received {upload["received"]}')
    conn.close()
    print(json.dumps({'download': download, 'upload': upload, 'failures': failures}), flush=True)


if __name__ == '__main__':
    main()
