"""Reference server for hostile_client.py's --reference mode: python-socketio 5's AsyncServer
(python-engineio underneath) on aiohttp, with nothing but what every Socket.IO server has: the
default namespace accepts every CONNECT and sends nothing of its own.

Binds 127.0.0.1 on a free port, prints ``READY <port>`` once listening, serves until SIGTERM/SIGINT.
"""
import asyncio
import signal

import socketio
from aiohttp import web


async def main():
    sio = socketio.AsyncServer(async_mode='aiohttp')

    @sio.event
    async def connect(sid, environ, auth=None):
        pass

    app = web.Application()
    sio.attach(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    print(f'READY {runner.addresses[0][1]}', flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    await runner.cleanup()


if __name__ == '__main__':
    asyncio.run(main())
