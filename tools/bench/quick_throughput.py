"""Quick throughput check: Socket.IO EVENT+ACK round trips over raw Engine.IO v4 WebSockets.

usage: quick_throughput.py --url http://127.0.0.1:PORT [--connections 10] [--window 8] [--messages 20000]

Each connection does the Engine.IO/Socket.IO handshake by hand (aiohttp WebSocket, no socketio
client overhead), then keeps `window` `echo` events with acks in flight until `messages` acks have
come back in total. Prints one JSON line: msgs/s (an event plus its ack) and the latency p50/p99.
A quick figure, not the benchmark of the performance issue: the Python peer is the bottleneck.
"""
import argparse
import asyncio
import json
import time

import aiohttp


async def connection(session, url, window, budget, latencies):
    ws_url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    async with session.ws_connect(ws_url) as ws:
        open_packet = await ws.receive_str()
        assert open_packet.startswith("0{"), open_packet
        await ws.send_str("40")
        while True:
            message = await ws.receive_str()
            if message.startswith("40"):
                break
        sent = {}
        next_id = 0
        payload = json.dumps("x" * 100)

        async def send_one():
            nonlocal next_id
            if budget[0] <= 0:
                return False
            budget[0] -= 1
            next_id += 1
            sent[next_id] = time.perf_counter()
            await ws.send_str(f'42{next_id}["echo",{payload}]')
            return True

        for _ in range(window):
            await send_one()
        while sent:
            message = await ws.receive_str()
            if message == "2":
                await ws.send_str("3")
                continue
            if not message.startswith("43"):
                continue
            digits = ""
            for char in message[2:]:
                if not char.isdigit():
                    break
                digits += char
            started = sent.pop(int(digits))
            latencies.append(time.perf_counter() - started)
            await send_one()
        await ws.close()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--messages", type=int, default=20000)
    args = parser.parse_args()
    budget = [args.messages]
    latencies = []
    async with aiohttp.ClientSession() as session:
        started = time.perf_counter()
        await asyncio.gather(*(connection(session, args.url, args.window, budget, latencies)
                               for _ in range(args.connections)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    print(json.dumps({
        "msgs": len(latencies), "seconds": round(elapsed, 3), "msgs_per_s": round(len(latencies) / elapsed),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }))


asyncio.run(main())
