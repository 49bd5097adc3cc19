"""A client that carries credentials everywhere a browser app might, for the redaction tests.

    secret_client.py --url http://127.0.0.1:PORT --prefix SECRET [--transport default|polling|websocket]

python-socketio 5 Client. Every credential is ``<prefix>-<where>`` so a test can grep for it:
``Authorization: Bearer <prefix>-authorization``, ``Cookie: session=<prefix>-cookie``, the query
values ``token=<prefix>-token`` and ``api_key=<prefix>-apikey``, and the CONNECT auth
``{"token": "<prefix>-auth-token", "nested": {"password": "<prefix>-auth-password"}, "n": 271828}``.
It waits for ``welcome``, gets an ``echo`` ack, disconnects and prints ``DONE``.
"""
import argparse
import threading

import socketio


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--prefix', required=True)
    parser.add_argument('--transport', default='default')
    parser.add_argument('--timeout', type=float, default=10)
    args = parser.parse_args()
    p = args.prefix
    welcomed = threading.Event()
    sio = socketio.Client()
    sio.on('welcome', lambda data: welcomed.set())
    transports = ['polling', 'websocket'] if args.transport == 'default' else [args.transport]
    sio.connect(f'{args.url}/?token={p}-token&api_key={p}-apikey',
                headers={'Authorization': f'Bearer {p}-authorization', 'Cookie': f'session={p}-cookie'},
                auth={'token': f'{p}-auth-token', 'nested': {'password': f'{p}-auth-password'}, 'n': 271828},
                transports=transports, wait_timeout=args.timeout)
    if not welcomed.wait(args.timeout):
        raise SystemExit('secret_client.py: no welcome')
    if sio.call('echo', 'hello', timeout=args.timeout) != 'hello':
        raise SystemExit('secret_client.py: bad echo')
    sio.disconnect()
    print('DONE', flush=True)


if __name__ == '__main__':
    main()
