"""Scenario for `signalling`: a camera and a viewer join the same code and complete the
offer/answer/ICE exchange; a third client in another room sees none of it."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
from scenario_lib import Peer, check, http, parse_args, run  # noqa: E402

CODE, OTHER = '123456', '654321'
SIGNALS = ('offer', 'answer', 'ice_candidate', 'peer_joined', 'peer_left')


def main(args, peers):
    camera, viewer, other = (Peer(n, args) for n in ('camera', 'viewer', 'other'))
    peers += [camera, viewer, other]
    for p in peers:
        p.connect()
        p.wait_for('connected')

    camera.emit('ping', {'seq': 1})
    check(camera.wait_for('pong')[2] == {'seq': 1}, 'camera: pong did not echo the ping payload')

    camera.emit('join_room', {'code': CODE, 'type': 'camera'})
    ok = camera.wait_for('join_room_success')[2]
    camera_id = ok.pop('id', None)
    check(ok == {'code': CODE, 'type': 'camera', 'members': 1} and camera_id, f'camera: join_room_success {ok}')
    viewer.emit('join_room', {'code': CODE, 'type': 'viewer'})
    ok = viewer.wait_for('join_room_success')[2]
    viewer_id = ok.pop('id', None)
    check(ok == {'code': CODE, 'type': 'viewer', 'members': 2} and viewer_id not in (None, camera_id),
          f'viewer: join_room_success {ok}')
    camera.wait_for('peer_joined', lambda d: d.get('type') == 'viewer')

    other.emit('join_room', {'code': '12ab', 'type': 'viewer'})
    other.wait_for('error', what='error for an invalid room code')
    other.emit('join_room', {'code': OTHER, 'type': 'viewer'})
    other.wait_for('join_room_success', lambda d: d.get('code') == OTHER)

    offer = {'type': 'offer', 'sdp': 'v=0\r\no=camera 1 1 IN IP4 127.0.0.1\r\n'}
    camera.emit('offer', offer)
    # relayed signals name their sender by the sid the server told it (`join_room_success.id`)
    check(viewer.wait_for('offer')[2] == offer | {'from': camera_id}, 'viewer: offer payload differs')
    answer = {'type': 'answer', 'sdp': 'v=0\r\no=viewer 1 1 IN IP4 127.0.0.1\r\n'}
    viewer.emit('answer', answer)
    check(camera.wait_for('answer')[2] == answer | {'from': viewer_id}, 'camera: answer payload differs')
    cands = [{'candidate': f'candidate:{i} 1 udp 2122260223 127.0.0.1 {50000 + i} typ host',
              'sdpMid': '0', 'sdpMLineIndex': 0} for i in range(1, 3)]
    for c in cands:
        camera.emit('ice_candidate', c)
    viewer.emit('ice_candidate', cands[0] | {'candidate': cands[0]['candidate'].replace('50001', '50101')})
    viewer.wait_for('ice_candidate', count=2)
    camera.wait_for('ice_candidate')
    # Flask-SocketIO handles each event in a thread of its own, so the two candidates may be
    # relayed in either order (as with any server that handles events concurrently; WebRTC does
    # not care about their order).
    by_candidate = lambda d: d['candidate']  # noqa: E731
    check(sorted((e[2] for e in viewer.received('ice_candidate')), key=by_candidate)
          == [c | {'from': camera_id} for c in cands], 'viewer: ICE candidates differ')

    # sender skipped: nobody got their own signal back
    for who, own in ((camera, 'offer'), (viewer, 'answer')):
        who.assert_none(own)
    check(len(camera.received('ice_candidate')) == 1, 'camera: got its own ICE candidates back')

    # a round trip on `other` after all of the above, then: it saw nothing of room CODE
    other.emit('ping', {'seq': 2})
    other.wait_for('pong')
    for ev in SIGNALS:
        other.assert_none(ev)

    viewer.disconnect()
    camera.wait_for('peer_left', lambda d: d == {'type': 'viewer', 'members': 1})
    r = http('GET', f'{args.url}/api/rooms', args.timeout)
    check(r.status_code == 200, f'GET /api/rooms: {r.status_code}')
    rooms = r.json()['rooms']
    check(rooms.get(CODE) == ['camera'], f'room {CODE} not cleaned up after the viewer left: {rooms}')

    return {p.name: p.events() for p in peers}


if __name__ == '__main__':
    # sids differ from run to run: the summary names them in order of appearance
    run(main, parse_args(__doc__.splitlines()[0]), normalize_keys=('id', 'from'))
