"""`siotape replay serve` as a child process, for the peers that replay a recording many times.

    serve = ReplayServe(siotape, recording, ['--on-unmatched', 'fail'])   # waits until it listens
    ... clients against serve.url ...
    status, stderr = serve.finish(timeout)   # it stops by itself once every session was served

Standard library only, so that every venv (python-socketio's, Playwright's) can import it.
"""
import re
import subprocess
import threading


class ReplayServe:
    def __init__(self, siotape, recording, arguments=(), ready_timeout=30):
        self.process = subprocess.Popen(
            [siotape, 'replay', 'serve', recording, '--listen', '127.0.0.1:0', *arguments],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.lines = []
        ready = threading.Event()
        self.url = None

        def collect():
            for line in self.process.stderr:
                self.lines.append(line)
                match = re.search(r'replaying .* on (127\.0\.0\.1:\d+)', line)
                if match and not ready.is_set():
                    self.url = 'http://' + match.group(1)
                    ready.set()
            ready.set()

        self.reader = threading.Thread(target=collect, daemon=True)
        self.reader.start()
        if not ready.wait(ready_timeout) or self.url is None:
            self.process.kill()
            raise RuntimeError('replay serve did not start: ' + ''.join(self.lines))

    def finish(self, timeout):
        """Waits for the server to stop by itself (SIGTERM after `timeout` s): (status, stderr).
        A server that had to be stopped reports status None."""
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(10)
            status = None
        self.reader.join(10)
        return status, ''.join(self.lines)
