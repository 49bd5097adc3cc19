"""Raw Engine.IO v4 WebSocket client that negotiates permessage-deflate (aiohttp, compress=15).

    ws_deflate_client.py --url http://127.0.0.1:PORT [--repeat N]

Talks to ``server_sio5.py`` (aiohttp accepts permessage-deflate): opens
``/socket.io/?EIO=4&transport=websocket``, reads the open packet, sends ``40``, waits for the
CONNECT reply, sends ``421["echo", {"text": <large repetitive string>}]`` and waits for the ack
``431[...]``; answers pings. Prints JSON: the negotiated ``Sec-WebSocket-Extensions``, the text
frames sent and received (sids replaced by ``"<sid>"``) and the size of the echoed text. Exits 1
if deflate was not negotiated or the echo does not match, 2 on a timeout.
"""
import argparse
import asyncio
import json
import re
import sys

import aiohttp

SID = re.compile(r'"sid":"[^"]*"')


async def run(url, repeat, timeout):
    text = 'siotape permessage-deflate ' * repeat
    sent, received = [], []
    ws_url = url.rstrip('/') + '/socket.io/?EIO=4&transport=websocket'
    handshake = {}

    async def on_request_end(session, context, params):
        handshake['extensions'] = params.response.headers.get('Sec-WebSocket-Extensions')

    trace = aiohttp.TraceConfig()
    trace.on_request_end.append(on_request_end)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        async with session.ws_connect(ws_url, compress=15) as ws:
            extensions = handshake.get('extensions')

            async def send(frame):
                sent.append(frame)
                await ws.send_str(frame)

            async def receive_until(prefix):
                while True:
                    msg = await asyncio.wait_for(ws.receive(), timeout)
                    if msg.type != aiohttp.WSMsgType.TEXT:
                        raise RuntimeError(f'unexpected message {msg!r}')
                    if msg.data == '2':
                        await ws.send_str('3')  # heartbeat: not part of the report
                        continue
                    received.append(SID.sub('"sid":"<sid>"', msg.data))
                    if msg.data.startswith(prefix):
                        return msg.data

            await receive_until('0')
            await send('40')
            await receive_until('40')
            await send('421' + json.dumps(['echo', {'text': text}], separators=(',', ':')))
            ack = await receive_until('431')
            await ws.close()
    echoed = json.loads(ack[3:])[0]['text']
    return {'extensions': extensions, 'compress': ws.compress, 'sent': sent,
            'received': received, 'echo_length': len(echoed), 'echo_ok': echoed == text}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--repeat', type=int, default=400, help='repetitions of the text')
    parser.add_argument('--timeout', type=float, default=10)
    args = parser.parse_args()
    try:
        report = asyncio.run(run(args.url, args.repeat, args.timeout))
    except asyncio.TimeoutError:
        print('ws_deflate_client.py: timed out', file=sys.stderr)
        sys.exit(2)
    print(json.dumps(report, indent=1, ensure_ascii=False))
    deflate = 'permessage-deflate' in (report['extensions'] or '') and report['compress']
    if not deflate:
        print('ws_deflate_client.py: permessage-deflate was not negotiated', file=sys.stderr)
    sys.exit(0 if deflate and report['echo_ok'] else 1)


if __name__ == '__main__':
    main()
