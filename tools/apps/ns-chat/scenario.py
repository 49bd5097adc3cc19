"""Scenario for `ns-chat`: GET the HTML page and the server's status page; three users join,
rooms, room messages, typing, a private message, a volatile cursor relay, a binary file shared
in a room, an `/admin` broadcast reaching every default-namespace client (and a refused admin),
and users-list cleanup on disconnect."""
import hashlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
from scenario_lib import Peer, check, http, parse_args, run  # noqa: E402

FILE = bytes(range(32)) + b'\x00\xff siotape binary attachment \xfe\x80'


def main(args, peers):
    pages = {}
    for path, needle in (('/', '<title>ns-chat'), ('/static/chat.js', "io()"), ('/status', 'ns-chat status')):
        r = http('GET', args.url + path, args.timeout)
        check(r.status_code == 200 and needle in r.text, f'GET {path}: {r.status_code}, no {needle!r}')
        pages[path] = {'status': r.status_code, 'content_type': r.headers.get('Content-Type', '').split(';')[0]}

    alice, bob, carol = (Peer(n, args) for n in ('alice', 'bob', 'carol'))
    ids = {}  # username -> socket id, as the server lists them (the ids it issued)

    def listed(d, want):
        if [u.get('username') for u in d] != want:
            return False
        ids.update({u['username']: u['socketId'] for u in d})
        return all(isinstance(u.get('socketId'), str) and u['socketId'] for u in d)

    peers += [alice, bob, carol]
    joined = []
    for p in (alice, bob, carol):
        p.connect()
        p.emit('join', {'username': p.name})
        joined.append(p.name)
        for q in peers:
            if q.name in joined:
                q.wait_for('users-list', lambda d, want=sorted(joined): listed(d, want), what=f'users-list {joined}')
    check(len(set(ids.values())) == 3, f'users-list: socket ids not distinct: {ids}')
    # The listed ids are the ones the server issued to each client (a mock server maps its recorded ones).
    for p in (alice, bob, carol):
        check(ids[p.name] == p.sio.get_sid(), f'users-list: {p.name} listed as {ids[p.name]}, its id is {p.sio.get_sid()}')

    for p, room in ((alice, 'lobby'), (bob, 'lobby'), (carol, 'dev')):
        p.emit('join-room', {'room': room})
        p.wait_for('room-joined', lambda d, room=room: d == {'room': room})
    alice.wait_for('room-notice', lambda d: d == {'room': 'lobby', 'message': 'bob joined lobby'})

    alice.emit('room-message', {'room': 'lobby', 'text': 'hello lobby'})
    for p in (alice, bob):
        p.wait_for('room-message', lambda d: d == {'room': 'lobby', 'user': 'alice', 'text': 'hello lobby'})

    bob.emit('typing', {'room': 'lobby'})
    bob.emit('stop-typing', {'room': 'lobby'})
    alice.wait_for('typing', lambda d: d == {'room': 'lobby', 'user': 'bob'})
    alice.wait_for('stop-typing', lambda d: d == {'room': 'lobby', 'user': 'bob'})

    check(alice.call('private-message', {'to': ids['carol'], 'text': 'psst carol'}) == {'delivered': True},
          'alice: private-message not delivered')
    carol.wait_for('private-message', lambda d: d == {'from': ids['alice'], 'username': 'alice', 'text': 'psst carol'})
    check(alice.call('private-message', {'to': 'nobody', 'text': '?'}) == {'delivered': False},
          'alice: private-message to an unknown user was delivered')

    # volatile: bob's queue is idle, so the relay reaches him
    alice.emit('cursor', {'room': 'lobby', 'x': 10, 'y': 20})
    bob.wait_for('cursor', lambda d: d == {'room': 'lobby', 'user': 'alice', 'x': 10, 'y': 20},
                 what='the volatile cursor relay')

    ack = bob.call('file-share', {'room': 'lobby', 'name': 'hello.bin', 'mime': 'application/octet-stream',
                                  'data': FILE})
    check(ack == {'ok': True, 'size': len(FILE), 'sha256': hashlib.sha256(FILE).hexdigest()},
          f'bob: file-share ack {ack}')
    f = alice.wait_for('file-shared')[2]
    check(f.get('data') == FILE and f.get('size') == len(FILE) and f.get('name') == 'hello.bin',
          f'alice: file-shared attachment differs: {f}')

    intruder = Peer('intruder', args, namespaces=['/admin'])
    peers.append(intruder)
    err = intruder.connect_refused(auth={'token': 'guess'})
    check(err == {'message': 'admin token required'}, f'intruder: CONNECT_ERROR {err}')
    admin = Peer('admin', args, namespaces=['/admin'])
    peers.append(admin)
    admin.connect(auth={'token': 'admin-secret'})
    ack = admin.call('admin-broadcast', {'message': 'maintenance at noon'}, namespace='/admin')
    check(ack.get('delivered', 0) >= 3, f'admin: admin-broadcast ack {ack}')
    for p in (alice, bob, carol):
        p.wait_for('admin-broadcast', lambda d: d == {'from': 'admin', 'message': 'maintenance at noon'})

    # nothing leaked out of the rooms
    carol.call('private-message', {'to': ids['alice'], 'text': 'thanks'})
    alice.wait_for('private-message', lambda d: d == {'from': ids['carol'], 'username': 'carol', 'text': 'thanks'})
    for ev in ('room-message', 'typing', 'cursor', 'file-shared', 'room-notice'):
        carol.assert_none(ev)
    bob.assert_none('private-message')
    bob.assert_none('file-shared')       # sender skipped
    alice.assert_none('cursor')          # sender skipped

    marks = {p: p.mark() for p in (alice, bob)}
    carol.disconnect()
    for p in (alice, bob):
        p.wait_for('users-list', lambda d: listed(d, ['alice', 'bob']), after=marks[p],
                   what='users-list after carol left')

    return {'pages': pages, **{p.name: p.events() for p in peers}}


if __name__ == '__main__':
    # socket ids differ from run to run: the summary names them in order of appearance
    run(main, parse_args(__doc__.splitlines()[0]), normalize_keys=('socketId', 'from'))
