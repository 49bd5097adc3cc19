"""`siotape replay serve` as a context manager for tests: a mock Socket.IO server from a recording.

    with replay_serve("tests/recordings/chat-send.siotape.gz") as url:
        client_under_test(url)

It starts `siotape replay serve RECORDING --listen 127.0.0.1:0 --on-unmatched fail` (port 0: the
system picks a free port, so tests can run in parallel), reads the address from the readiness line
the server prints on stderr (`siotape: replaying RECORDING on 127.0.0.1:PORT (N session(s))`) and
yields `http://127.0.0.1:PORT`. When the block ends, the server has stopped by itself if the client
played every recorded session and sent nothing the recording lacks; its exit status must be 0, and
its summary is in the assertion message otherwise.

The siotape binary is $SIOTAPE_BIN if set, else `siotape` on PATH. Copy this file into your tests.
"""
import contextlib
import os
import shutil
import subprocess
import threading

READY = "siotape: replaying "


def siotape_binary():
    binary = os.environ.get("SIOTAPE_BIN") or shutil.which("siotape")
    if not binary:
        raise RuntimeError("no siotape: put it on PATH or set SIOTAPE_BIN")
    return binary


@contextlib.contextmanager
def replay_serve(recording, *options, stop_timeout=10):
    """Yields the URL of a `replay serve` of `recording`; `options` are more `replay serve` flags."""
    command = [siotape_binary(), "replay", "serve", str(recording), "--listen", "127.0.0.1:0",
               "--on-unmatched", "fail", *options]
    server = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    log = []
    try:
        # The readiness line: `siotape: replaying RECORDING on HOST:PORT (N session(s))`.
        for line in server.stderr:
            log.append(line)
            if line.startswith(READY):
                address = line.rsplit(" on ", 1)[1].split(" ", 1)[0]
                break
        else:
            raise RuntimeError(f"replay serve exited ({server.wait()}) before listening:\n{''.join(log)}")
        # Keep reading stderr, so the server never blocks on a full pipe; the log goes in failures.
        drain = threading.Thread(target=lambda: log.extend(server.stderr), daemon=True)
        drain.start()

        yield f"http://{address}"

        # Every recorded session served and every client gone: the server stops by itself.
        try:
            status = server.wait(timeout=stop_timeout)
        except subprocess.TimeoutExpired:
            server.terminate()
            server.wait()
            drain.join()
            raise AssertionError("replay serve still waits for recorded sessions the client did not play:\n"
                                 + "".join(log))
        drain.join()
        assert status == 0, f"replay serve exited {status}:\n" + "".join(log)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
