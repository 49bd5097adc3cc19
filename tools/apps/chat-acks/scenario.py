"""Scenario for `chat-acks`: presence across two sockets of one user, conversations with acked
messages fanned out to the others, typing, read receipts, private messages, the health endpoint."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
from scenario_lib import Peer, check, http, parse_args, run  # noqa: E402


def main(args, peers):
    r = http('GET', f'{args.url}/api/socket/health', args.timeout)
    check(r.status_code == 200 and r.json().get('status') == 'ok', f'health: {r.status_code} {r.text}')
    health = r.json()

    anon = Peer('anonymous', args)
    peers.append(anon)
    err = anon.connect_refused(auth={})
    check(err == {'message': 'userId required'}, f'anonymous: CONNECT_ERROR {err}')

    alice1, bob, carol, alice2 = (Peer(n, args) for n in ('alice1', 'bob', 'carol', 'alice2'))
    peers += [alice1, bob, carol, alice2]
    alice1.connect(auth={'userId': 'alice'})
    bob.connect(auth={'userId': 'bob'})
    alice1.wait_for('user:online', lambda d: d == {'userId': 'bob'})
    carol.connect(auth={'userId': 'carol'})
    for p in (alice1, bob):
        p.wait_for('user:online', lambda d: d == {'userId': 'carol'})
    alice2.connect(auth={'userId': 'alice'})          # alice's second socket: no new user:online
    online = bob.call('presence:list')['online']
    check(online == ['alice', 'bob', 'carol'], f'presence:list {online}')
    for p in (bob, carol):
        p.assert_none('user:online', pred=lambda d: d['userId'] == 'alice')

    for p in (alice1, alice2, bob):
        a = p.call('conversation:join', {'conversationId': 'general'})
        check(a == {'success': True, 'conversationId': 'general'}, f'{p.name}: join general {a}')
    check(carol.call('conversation:join', {'conversationId': 'random'})['success'], 'carol: join random')

    ack = alice1.call('message:send', {'conversationId': 'general', 'text': 'hello team'})
    check(ack.get('success') is True and 'messageId' in ack, f'alice1: message:send ack {ack}')
    m1 = ack['messageId']
    for p in (bob, alice2):
        got = p.wait_for('message:new', lambda d: d['messageId'] == m1)[2]
        check(got == {'messageId': m1, 'conversationId': 'general', 'senderId': 'alice', 'text': 'hello team'},
              f'{p.name}: message:new {got}')
    nack = carol.call('message:send', {'conversationId': 'general', 'text': 'let me in'})
    check(nack.get('success') is False, f'carol: sending to a conversation she is not in was accepted: {nack}')

    bob.emit('typing:start', {'conversationId': 'general'})
    bob.emit('typing:stop', {'conversationId': 'general'})
    for p in (alice1, alice2):
        p.wait_for('typing:start', lambda d: d == {'conversationId': 'general', 'userId': 'bob'})
        p.wait_for('typing:stop', lambda d: d == {'conversationId': 'general', 'userId': 'bob'})

    check(bob.call('message:read', {'messageId': m1}) == {'success': True}, 'bob: message:read ack')
    for p in (alice1, alice2):
        got = p.wait_for('message:read')[2]
        check(got == {'messageId': m1, 'conversationId': 'general', 'readerId': 'bob'}, f'{p.name}: receipt {got}')

    ack = carol.call('message:private', {'toUserId': 'bob', 'text': 'psst'})
    check(ack.get('success') is True, f'carol: message:private ack {ack}')
    got = bob.wait_for('message:private')[2]
    check(got == {'messageId': ack['messageId'], 'fromUserId': 'carol', 'text': 'psst'}, f'bob: private {got}')

    check(bob.call('conversation:leave', {'conversationId': 'general'})['success'], 'bob: leave general')
    m2 = alice2.call('message:send', {'conversationId': 'general', 'text': 'bob left'})['messageId']
    alice1.wait_for('message:new', lambda d: d['messageId'] == m2)
    bob.call('presence:list')      # a round trip after the fan-out
    check(len(bob.received('message:new')) == 1, 'bob: got a message after leaving the conversation')
    for p in (alice1, alice2, bob, carol):
        for ev in ('message:new', 'typing:start', 'message:read', 'message:private'):
            if p in (alice1, alice2) and ev != 'message:private':
                continue
            if p is bob and ev in ('message:new', 'message:private'):
                continue
            p.assert_none(ev)
    alice1.assert_none('message:new', pred=lambda d: d['messageId'] == m1)

    # presence across sockets: alice is offline only when her last socket leaves
    alice1.disconnect()
    check('alice' in bob.call('presence:list')['online'], 'alice went offline with one socket left')
    bob.assert_none('user:offline')
    alice2.disconnect()
    for p in (bob, carol):
        p.wait_for('user:offline', lambda d: d == {'userId': 'alice'})
    check(bob.call('presence:list')['online'] == ['bob', 'carol'], 'presence after alice left')

    return {'health': {'status': health['status']}, **{p.name: p.events() for p in peers}}


if __name__ == '__main__':
    run(main, parse_args(__doc__.splitlines()[0]), normalize_keys=('messageId',))
