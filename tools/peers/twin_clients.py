"""Two python-socketio AsyncClients that look the same until they diverge (the usual chat test),
against the ``server_sio5.py`` scenario: each connects to ``/`` and waits for ``welcome``; then the
echoer emits ``echo`` and the joiner ``join``s a room, each waiting for its ack.

    twin_clients.py record --url URL [--transport T]
        the joiner connects first, the echoer once the joiner was welcomed; prints what each observed
    twin_clients.py replay --siotape BIN --recording REC [--transport T] [--repetitions N]
        N times: starts ``siotape replay serve REC --on-unmatched fail``, connects both clients at once
        (echoer first: the opposite of the recording) and lets them diverge at once; prints
        {"runs": [{"observed", "status", "stderr"}...]}

Transports: polling, websocket, default (polling then the upgrade). Exits 0 once it has printed.
"""
import argparse
import asyncio
import json
import sys

import socketio

from replay_serve import ReplayServe

TRANSPORTS = {'polling': ['polling'], 'websocket': ['websocket'], 'default': ['polling', 'websocket']}
TIMEOUT = 10


def plain(value):
    return list(value) if isinstance(value, tuple) else [value]


class Twin:
    def __init__(self, role):
        self.role = role
        self.sio = socketio.AsyncClient(reconnection=False)
        self.welcome = asyncio.get_running_loop().create_future()

        @self.sio.on('welcome')
        async def welcome(data):
            if not self.welcome.done():
                self.welcome.set_result(data)

    async def connect(self, url, transport):
        await self.sio.connect(url, transports=TRANSPORTS[transport], wait_timeout=TIMEOUT)
        return await asyncio.wait_for(self.welcome, TIMEOUT)

    async def diverge(self):
        if self.role == 'echoer':
            return plain(await self.sio.call('echo', ('hello', {'n': 1}), timeout=TIMEOUT))
        return plain(await self.sio.call('join', {'room': 'room1'}, timeout=TIMEOUT))


async def scenario(url, transport, together):
    echoer, joiner = Twin('echoer'), Twin('joiner')
    try:
        if together:
            welcomes = await asyncio.gather(echoer.connect(url, transport), joiner.connect(url, transport))
            answers = await asyncio.gather(echoer.diverge(), joiner.diverge())
        else:
            welcomes = [None, await joiner.connect(url, transport)]
            welcomes[0] = await echoer.connect(url, transport)
            answers = [await echoer.diverge(), await joiner.diverge()]
        return {'echoer': {'welcome': welcomes[0], 'answer': answers[0]},
                'joiner': {'welcome': welcomes[1], 'answer': answers[1]}}
    finally:
        await asyncio.gather(echoer.sio.disconnect(), joiner.sio.disconnect(), return_exceptions=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('mode', choices=['record', 'replay'])
    parser.add_argument('--url')
    parser.add_argument('--siotape')
    parser.add_argument('--recording')
    parser.add_argument('--transport', choices=sorted(TRANSPORTS), default='default')
    parser.add_argument('--repetitions', type=int, default=1)
    args = parser.parse_args()
    if args.mode == 'record':
        print(json.dumps(asyncio.run(scenario(args.url, args.transport, together=False)), sort_keys=True))
        return
    runs = []
    for _ in range(args.repetitions):
        serve = ReplayServe(args.siotape, args.recording, ['--on-unmatched', 'fail'])
        try:
            observed = asyncio.run(scenario(serve.url, args.transport, together=True))
        except Exception as error:  # reported per run: the test shows which and why
            observed = {'error': f'{type(error).__name__}: {error}'}
        status, stderr = serve.finish(TIMEOUT)
        runs.append({'observed': observed, 'status': status, 'stderr': stderr[-3000:]})
    print(json.dumps({'runs': runs}, sort_keys=True))


if __name__ == '__main__':
    sys.exit(main())
