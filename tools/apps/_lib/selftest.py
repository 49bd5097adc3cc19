"""Self-test of the sample apps: for each app, start it on a free port, run its scenario directly
with each transport twice, check the JSON summaries are identical across runs and transports,
then SIGTERM the app and check it exits 0. Exit 0 if all pass."""
import os
import signal
import subprocess
import sys
import time

APPS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL = ['signalling', 'org-notify', 'chat-acks', 'job-stream', 'ns-chat']
TRANSPORTS = ['polling', 'websocket', 'default']


def start(name):
    p = subprocess.Popen([sys.executable, '-u', os.path.join(APPS, name, 'app.py'), '--port', '0'],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line.startswith('READY '):
        p.kill()
        raise SystemExit(f'{name}: no READY line (got {line!r})')
    return p, int(line.split()[1])


def main():
    names = sys.argv[1:] or ALL
    failed = []
    for name in names:
        app, port = start(name)
        summaries = {}
        try:
            for rnd in (1, 2):
                for t in TRANSPORTS:
                    t0 = time.monotonic()
                    r = subprocess.run([sys.executable, os.path.join(APPS, name, 'scenario.py'),
                                        '--url', f'http://127.0.0.1:{port}', '--transport', t],
                                       capture_output=True, text=True, timeout=120)
                    ok = r.returncode == 0
                    print(f'{name:11} {t:9} run {rnd}: {"ok" if ok else "FAILED"} ({time.monotonic() - t0:.1f}s)',
                          flush=True)
                    if not ok:
                        failed.append(f'{name} {t} run {rnd}: {r.stderr.strip()}')
                    else:
                        summaries[(t, rnd)] = r.stdout
            distinct = set(summaries.values())
            if len(distinct) > 1:
                failed.append(f'{name}: summaries differ between runs/transports')
                print(f'{name:11} summaries differ', flush=True)
        finally:
            app.send_signal(signal.SIGTERM)
            try:
                rc = app.wait(10)
            except subprocess.TimeoutExpired:
                app.kill()
                rc = 'timeout'
            if rc != 0:
                failed.append(f'{name}: exit status {rc} after SIGTERM')
            print(f'{name:11} SIGTERM -> exit {rc}', flush=True)
    for f in failed:
        print('FAILED:', f, file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
