"""A client that logs in over plain HTTP and sends the JWT it got in its CONNECT, for the tests of
known secrets (tools/apps/org-notify).

    login_client.py --url http://127.0.0.1:PORT [--user alice] [--transport default|polling|websocket]

POST /api/login with a wrong password (expects 401), then with `<user>-password`; connects with
`auth: {"token": <the JWT of the answer>}`, waits for `session`, disconnects and prints ``DONE``.
"""
import argparse
import threading

import requests
import socketio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--user', default='alice')
    parser.add_argument('--transport', default='default')
    parser.add_argument('--timeout', type=float, default=10)
    args = parser.parse_args()
    wrong = requests.post(f'{args.url}/api/login', json={'user': args.user, 'password': 'guess'}, timeout=args.timeout)
    if wrong.status_code != 401:
        raise SystemExit(f'login_client.py: a wrong password got {wrong.status_code}')
    answer = requests.post(f'{args.url}/api/login', json={'user': args.user, 'password': f'{args.user}-password'},
                           timeout=args.timeout)
    answer.raise_for_status()
    token = answer.json()['token']
    session = threading.Event()
    sio = socketio.Client()
    sio.on('session', lambda data: session.set())
    transports = ['polling', 'websocket'] if args.transport == 'default' else [args.transport]
    sio.connect(args.url, auth={'token': token}, transports=transports, wait_timeout=args.timeout)
    if not session.wait(args.timeout):
        raise SystemExit('login_client.py: no session event')
    sio.disconnect()
    print('DONE', flush=True)


if __name__ == '__main__':
    main()
