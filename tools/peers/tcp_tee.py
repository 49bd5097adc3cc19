"""Transparent TCP relay that logs every byte, for the byte-transparency tests.

    tcp_tee.py --target-port P --log FILE [--target-host 127.0.0.1]

Listens on 127.0.0.1 (port 0 = any free port), prints ``READY <port>`` once listening, and relays
each accepted connection to the target, bytes untouched, both ways, with half-close (EOF in one
direction is passed on as a write shutdown while the other direction keeps flowing).

The two directions end independently, and the log holds every byte each peer delivered to the
tee. A reset of one peer ends only its direction, passed on as a write shutdown, not as a reset: a
reset ends the whole connection, and the bytes the other peer still had on their way would be
discarded unread, missing from the log though they were sent (a server that closes with a frame
unread resets its connection while the client's close frame is still on its way through the proxy).
A peer that can no longer be written to stops the forwarding, not the reading: the other peer's
bytes are still read to their EOF and logged.

It prints ``OPEN <n>`` when it accepts connection n (from 1) and ``DONE <n>`` when that connection
has ended (both directions, or the target could not be reached), so a test can wait for every
connection to end. On SIGTERM/SIGINT it
stops accepting, gives the open connections up to ``--drain`` seconds to end
by themselves, then writes to ``--log`` one JSON document:

    {"connections": [{"c2s": <base64>, "s2c": <base64>, "complete": true}, ...]}

in the order the connections were accepted: the exact bytes the client sent and the exact bytes
the target sent back, per TCP connection; ``complete`` says whether both directions reached EOF.
"""
import argparse
import asyncio
import base64
import json
import signal
import socket


class Connection:
    def __init__(self):
        self.c2s = bytearray()
        self.s2c = bytearray()
        self.complete = False


async def pump(reader, writer, log):
    """Copies reader to writer until EOF (or a reset of the reader's peer), then half-closes the writer.

    Ends this direction only: the writer's socket is never aborted, so the other direction, read from
    the same socket, keeps every byte its peer sends. Once the writer fails, what is read is still logged.
    """
    forwarding = True
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            log.extend(data)
            if forwarding:
                try:
                    writer.write(data)
                    await writer.drain()
                except (ConnectionError, OSError):
                    forwarding = False
    except (ConnectionError, OSError):
        pass  # the reader's peer reset: this direction ends as with an EOF
    if forwarding and writer.can_write_eof():
        try:
            writer.write_eof()
        except (ConnectionError, OSError):
            pass  # the writer's peer is gone: nothing to pass the end on to


async def main(args):
    connections = []
    tasks = set()

    async def handle(client_reader, client_writer):
        connection = Connection()
        connections.append(connection)
        number = len(connections)
        print(f'OPEN {number}', flush=True)
        try:
            try:
                server_reader, server_writer = await asyncio.open_connection(args.target_host, args.target_port)
            except OSError:
                client_writer.transport.abort()
                return
            await asyncio.gather(
                pump(client_reader, server_writer, connection.c2s),
                pump(server_reader, client_writer, connection.s2c),
            )
            connection.complete = True
            for writer in (client_writer, server_writer):
                writer.close()
        finally:
            print(f'DONE {number}', flush=True)

    def track(reader, writer):
        task = asyncio.ensure_future(handle(reader, writer))
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    server = await asyncio.start_server(track, '127.0.0.1', args.port, family=socket.AF_INET)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    print(f'READY {server.sockets[0].getsockname()[1]}', flush=True)
    await stop.wait()
    server.close()
    if tasks:
        await asyncio.wait(list(tasks), timeout=args.drain)
    for task in list(tasks):
        task.cancel()
    document = {'connections': [
        {'c2s': base64.b64encode(bytes(c.c2s)).decode(), 's2c': base64.b64encode(bytes(c.s2c)).decode(),
         'complete': c.complete}
        for c in connections
    ]}
    with open(args.log, 'w') as out:
        json.dump(document, out)


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--target-host', default='127.0.0.1')
    parser.add_argument('--target-port', type=int, required=True)
    parser.add_argument('--port', type=int, default=0)
    parser.add_argument('--log', required=True)
    parser.add_argument('--drain', type=float, default=3, help='seconds to wait for open connections')
    asyncio.run(main(parser.parse_args()))
