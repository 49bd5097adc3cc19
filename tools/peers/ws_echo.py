"""A compliant WebSocket echo server (aiohttp), the reference peer of the Autobahn comparison.

    ws_echo.py [--port 0]

Binds 127.0.0.1, prints ``READY <port>``, answers a WebSocket upgrade on any path (so a URL that
looks like Engine.IO, ``/socket.io/?EIO=4&transport=websocket``, makes siotape decode the frames)
and echoes every text and binary message, permessage-deflate included, no size limit.
"""
import argparse
import asyncio
import signal

from aiohttp import WSMsgType, web


async def echo(request):
    ws = web.WebSocketResponse(compress=True, max_msg_size=0, autoping=True)
    await ws.prepare(request)
    async for message in ws:
        if message.type == WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type == WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


async def main(args):
    app = web.Application()
    app.router.add_route('GET', '/{tail:.*}', echo)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', args.port)
    await site.start()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f'READY {runner.addresses[0][1]}', flush=True)
    await stop.wait()
    await runner.cleanup()


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--port', type=int, default=0)
    asyncio.run(main(parser.parse_args()))
