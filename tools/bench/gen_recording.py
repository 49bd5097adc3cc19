#!/usr/bin/env python3
"""Writes a large siotape recording (format version 1, as `siotape record` writes it: gzip members of
~256 KiB of JSON lines, zlib level 3) for benchmarking `siotape inspect`.

Traffic: ~200 concurrent WebSocket sessions (each opened over polling and upgraded), a chat-like
mix of Socket.IO events with varied payloads (acked `message:send`, broadcast `message:new`,
`typing:start`, `cursor`, `video:progress`, binary `file-share`), acks with latencies, Engine.IO
ping/pong, occasional undecodable bytes; sessions close and new ones open as it goes.

usage: gen_recording.py OUT [--packets N] [--seed S] [--session-packets LO HI] [--sessions N] [--sids FILE]
       prints the packet count (sio+eio+raw records)

--sessions N: exactly N sessions (instead of --packets): no new session opens after the N-th, and the
recording ends when the last one closes (ViewTests: 10,000 sessions of a few packets each).
--sids FILE: writes every session's sid to FILE, one a line, in the order they opened.
"""
import argparse
import base64
import json
import random
import zlib

WORDS = ('hello there how are you doing today the quick brown fox jumps over lazy dog meeting at noon '
         'ship it please review my pull request coffee? sure lunch later build is green again').split()


def text(rng, lo, hi):
    return ' '.join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def sid(rng):
    return ''.join(rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_') for _ in range(20))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--packets', type=int, default=2_000_000)
    ap.add_argument('--seed', type=int, default=7)
    ap.add_argument('--session-packets', type=int, nargs=2, default=[2000, 30000], metavar=('LO', 'HI'),
                    help='packets per session, uniformly between LO and HI (tools/bench/view: 50 150, for 10,000 sessions)')
    ap.add_argument('--sessions', type=int, default=0, help='exactly this many sessions (then --packets is ignored)')
    ap.add_argument('--sids', help='write the sessions\' sids to this file, in the order they opened')
    args = ap.parse_args()
    rng = random.Random(args.seed)
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(',', ':')).encode
    out = open(args.out, 'wb')
    wall = 1_795_283_490_366_567
    header = ('{"format":"siotape","version":1,"started":"2026-11-21T17:51:30.366567Z","wall_us":%d,'
              '"tool":"siotape 0.1.0","upstream":"http://127.0.0.1:5000","listen":"127.0.0.1:8080","redacted":true}\n'
              % wall)

    def member(lines):
        c = zlib.compressobj(3, zlib.DEFLATED, 31)
        out.write(c.compress(''.join(lines).encode()) + c.flush())

    member([header])
    t = 0
    conn = 0
    records = 0
    packets = 0
    pending = []
    size = 0
    sessions = []   # [sid, conn, next ack id, packets left]
    opened = 0
    sids = []

    def emit(line):
        nonlocal size, records
        pending.append(line)
        records += 1
        size += len(line)
        if size >= 256 * 1024:
            member(pending)
            pending.clear()
            size = 0

    def open_session():
        nonlocal conn, opened
        opened += 1
        conn += 1
        s = sid(rng)
        sids.append(s)
        emit('{"t":%d,"k":"conn","conn":%d,"peer":"127.0.0.1:%d"}\n' % (t, conn, 30000 + conn % 30000))
        emit('{"t":%d,"k":"open","sid":"%s","conn":%d,"eio":4,"tr":"polling","path":"/socket.io/",'
             '"query":[["EIO","4"],["transport","polling"],["t","P%d"]],"headers":[["User-Agent","bench"]],'
             '"handshake":{"sid":"%s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,'
             '"maxPayload":1000000}}\n' % (t, s, conn, conn, s))
        conn += 1
        emit('{"t":%d,"k":"ws","sid":"%s","conn":%d}\n' % (t + 5, s, conn))
        emit('{"t":%d,"k":"upgrade","sid":"%s","conn":%d}\n' % (t + 9, s, conn))
        sessions.append([s, conn, 0, rng.randint(*args.session_packets)])
        return sessions[-1]

    def sio(sess, d, typ, data, ack=None, event=None, ack_us=None, nsp='/'):
        nonlocal packets
        packets += 1
        line = '{"t":%d,"k":"sio","sid":"%s","conn":%d,"dir":"%s","tr":"websocket","type":"%s","nsp":"%s"' % (
            t, sess[0], sess[1], d, typ, nsp)
        if ack is not None:
            line += ',"id":%d' % ack
        if event is not None:
            line += ',"event":%s' % dumps(event)
        if ack_us is not None:
            line += ',"ack_us":%d' % ack_us
        line += ',"data":%s}\n' % dumps(data)
        emit(line)

    for _ in range(min(200, args.sessions) if args.sessions else 200):
        open_session()
    acks = []   # (due t, sess, id, latency)
    while sessions if args.sessions else packets < args.packets:
        t += rng.randint(0, 400)
        while acks and acks[0][0] <= t:
            _, sess, i, lat = acks.pop(0)
            sio(sess, 's2c', 'ACK', [{'success': True, 'messageId': rng.randint(1, 10**6)}], ack=i, ack_us=lat)
        k = rng.randrange(len(sessions))
        sess = sessions[k]
        r = rng.random()
        if r < 0.28:
            sess[2] += 1
            msg = {'conversationId': 'c%d' % rng.randint(1, 50), 'text': text(rng, 2, 30),
                   'clientTs': t, 'tags': [rng.choice(WORDS) for _ in range(rng.randint(0, 3))]}
            sio(sess, 'c2s', 'EVENT', ['message:send', msg], ack=sess[2], event='message:send')
            lat = int(rng.lognormvariate(7.5, 1.0))
            acks.append((t + lat, sess, sess[2], lat))
            acks.sort(key=lambda a: a[0])
        elif r < 0.55:
            msg = {'id': rng.randint(1, 10**6), 'from': 'user%d' % rng.randint(1, 300), 'text': text(rng, 2, 40),
                   'sentAt': '2026-11-21T17:%02d:%02d.%03dZ' % (rng.randint(0, 59), rng.randint(0, 59), rng.randint(0, 999))}
            sio(sess, 's2c', 'EVENT', ['message:new', msg], event='message:new')
        elif r < 0.68:
            sio(sess, 'c2s', 'EVENT', ['typing:start', {'conversationId': 'c%d' % rng.randint(1, 50)}],
                event='typing:start')
        elif r < 0.78:
            sio(sess, 'c2s', 'EVENT', ['cursor', {'x': rng.randint(0, 1920), 'y': rng.randint(0, 1080)}],
                event='cursor', nsp='/board')
        elif r < 0.83:
            sio(sess, 's2c', 'EVENT', ['video:progress', {'videoId': 'v%d' % rng.randint(1, 99),
                                                           'progress': rng.choice([10, 40, 70, 100])}],
                event='video:progress')
        elif r < 0.835:
            blob = base64.b64encode(rng.randbytes(rng.randint(16, 600))).decode()
            packets += 1
            emit('{"t":%d,"k":"sio","sid":"%s","conn":%d,"dir":"c2s","tr":"websocket","type":"BINARY_EVENT",'
                 '"nsp":"/","event":"file-share","att":["%s"],"data":["file-share",{"name":"f.bin"},'
                 '{"_placeholder":true,"num":0}]}\n' % (t, sess[0], sess[1], blob))
        elif r < 0.8352:
            packets += 1
            emit('{"t":%d,"k":"raw","sid":"%s","conn":%d,"dir":"c2s","tr":"websocket","layer":"sio",'
                 '"reason":"unterminated JSON","off":9,"text":"42[\\"oops\\""}\n' % (t, sess[0], sess[1]))
        else:
            packets += 2
            emit('{"t":%d,"k":"eio","sid":"%s","conn":%d,"dir":"s2c","tr":"websocket","type":"ping"}\n'
                 % (t, sess[0], sess[1]))
            emit('{"t":%d,"k":"eio","sid":"%s","conn":%d,"dir":"c2s","tr":"websocket","type":"pong"}\n'
                 % (t + rng.randint(50, 900), sess[0], sess[1]))
        sess[3] -= 1
        if sess[3] <= 0:
            emit('{"t":%d,"k":"close","sid":"%s","cause":"client close packet"}\n' % (t, sess[0]))
            emit('{"t":%d,"k":"conn_close","conn":%d,"cause":"client"}\n' % (t, sess[1]))
            sessions.pop(k)
            acks = [a for a in acks if a[1] is not sess]
            if not args.sessions or opened < args.sessions:
                open_session()
    for sess in sessions:
        emit('{"t":%d,"k":"close","sid":"%s","cause":"client close packet"}\n' % (t, sess[0]))
    pending.append('{"t":%d,"k":"end","records":%d}\n' % (t, records))
    member(pending)
    out.close()
    if args.sids:
        with open(args.sids, 'w') as f:
            f.write(''.join(s + '\n' for s in sids))
    print(packets)


if __name__ == '__main__':
    main()
