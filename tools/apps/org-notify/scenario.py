"""Scenario for `org-notify`: bad and missing tokens are refused with CONNECT_ERROR; two users of
org A (acme) and one of org B (globex) log in (POST /api/login, a wrong password first for carol)
and connect with the JWT they got, which the server echoes in `welcome`; only org A sees A's
progress (10/40/70) and result; a client whose connection the server drops reconnects and keeps
receiving."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '_lib'))
sys.path.insert(0, HERE)
import jwt_hs256  # noqa: E402
from scenario_lib import Peer, check, http, parse_args, run  # noqa: E402

VIDEO_EVENTS = ('video:progress', 'video:processed', 'video:failed', 'video:status')


def token(user, org, secret=jwt_hs256.TEST_SECRET):
    return {'token': jwt_hs256.encode({'sub': user, 'org': org}, secret)}


def login(args, user, password):
    """POST /api/login; the JWT of the answer (any string: against `replay serve` it is the
    recording's masked value, which that server then accepts and echoes)."""
    r = http('POST', f'{args.url}/api/login', args.timeout, json={'user': user, 'password': password})
    if password != f'{user}-password':
        check(r.status_code == 401 and r.json() == {'error': 'bad credentials'}, f'{user}: wrong password: {r.status_code} {r.text}')
        return None
    body = r.json()
    check(r.status_code == 200 and body.get('user') == user and isinstance(body.get('token'), str),
          f'{user}: login: {r.status_code} {r.text}')
    return body['token']


def job_seen(peer, job_id, outcome='video:processed', n=1):
    """Wait for the whole job on `peer`: progress 10, 40, 70 then the outcome."""
    for pct in (10, 40, 70):
        peer.wait_for('video:progress', lambda d, p=pct: d['jobId'] == job_id and d['progress'] == p,
                      what=f'video:progress {pct}% of job {job_id}')
    return peer.wait_for(outcome, lambda d: d['jobId'] == job_id, what=f'{outcome} of job {job_id}')


def main(args, peers):
    forged, anonymous = Peer('forged', args), Peer('anonymous', args)
    peers += [forged, anonymous]
    err = forged.connect_refused(auth=token('mallory', 'acme', secret=b'not-the-secret'))
    check(err == {'message': 'invalid token'}, f'forged token: CONNECT_ERROR {err}')
    err = anonymous.connect_refused(auth=None)
    check(err == {'message': 'missing token'}, f'missing token: CONNECT_ERROR {err}')

    alice = Peer('alice', args, reconnection=True, reconnection_delay=0.1,
                 reconnection_delay_max=0.2, randomization_factor=0)
    bob, carol = Peer('bob', args), Peer('carol', args)
    peers += [alice, bob, carol]
    login(args, 'carol', 'guess')
    jwts = {p.name: login(args, p.name, f'{p.name}-password') for p in (alice, bob, carol)}
    for p, org in ((alice, 'acme'), (bob, 'acme'), (carol, 'globex')):
        p.connect(auth={'token': jwts[p.name]})
        w = p.wait_for('welcome')[2]
        check(w == {'user': p.name, 'token': jwts[p.name]}, f'{p.name}: welcome {w}')
        s = p.wait_for('session')[2]
        check(s == {'user': p.name, 'org': org}, f'{p.name}: session {s}')

    check(alice.call('video:subscribe', {'videoId': 'a1'}) == {'subscribed': 'a1'}, 'alice: subscribe a1')
    r = carol.call('video:subscribe', {'videoId': 'a1'})
    check(r.get('error') == 'forbidden', f'carol: subscribing to acme video a1 was not refused: {r}')

    # org A's job: both acme users see it, globex does not
    j1 = bob.call('video:process', {'videoId': 'a1'})['jobId']
    for p in (alice, bob):
        job_seen(p, j1)
    alice.wait_for('video:status', lambda d: d['jobId'] == j1 and d['status'] == 'done')
    bob.assert_none('video:status')    # not subscribed to video:a1

    # org B's job: only carol
    j2 = carol.call('video:process', {'videoId': 'b1'})['jobId']
    job_seen(carol, j2)
    # a failing job of org A
    j3 = alice.call('video:process', {'videoId': 'a2', 'fail': True})['jobId']
    for p in (alice, bob):
        job_seen(p, j3, outcome='video:failed')

    for p in (alice, bob):
        for ev in VIDEO_EVENTS:
            p.assert_none(ev, pred=lambda d: d['jobId'] == j2)
    for ev in VIDEO_EVENTS:
        carol.assert_none(ev, pred=lambda d: d['jobId'] != j2)

    # the server drops alice's transport; her client reconnects and keeps receiving
    r = http('POST', f'{args.url}/api/admin/drop', args.timeout, json={'user': 'alice'})
    check(r.status_code == 200 and r.json() == {'dropped': 1}, f'admin drop: {r.status_code} {r.text}')
    alice.wait_for('disconnect', what='a disconnect after the server dropped the transport')
    alice.wait_for('connect', count=2, what='a reconnection')
    alice.wait_for('session', count=2)
    check(alice.received('welcome')[-1][2] == {'user': 'alice', 'token': jwts['alice']}, 'alice: welcome again')
    check(alice.call('video:subscribe', {'videoId': 'a1'}) == {'subscribed': 'a1'}, 'alice: re-subscribe a1')
    j4 = bob.call('video:process', {'videoId': 'a1'})['jobId']
    for p in (alice, bob):
        job_seen(p, j4)
    alice.wait_for('video:status', lambda d: d['jobId'] == j4 and d['status'] == 'done')

    return {p.name: p.events() for p in peers}


if __name__ == '__main__':
    run(main, parse_args(__doc__.splitlines()[0]), normalize_keys=('jobId',))
