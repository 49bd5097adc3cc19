"""WebSocket conformance of `siotape record`: Autobahn|Testsuite's fuzzingclient against an aiohttp
echo server, once directly and once through the proxy; the verdicts must be the same case by case.

    compare.py --wstest .venv/autobahn/wstest --siotape .build/debug/siotape [--cases fast|all|1.*,2.1]

Starts ``tools/peers/ws_echo.py`` and ``siotape record`` in front of it (the URL looks like Engine.IO,
so siotape decodes every frame on its copy), runs wstest once with both as servers, then compares
``behavior`` and ``behaviorClose`` of every case. Prints one JSON document on stdout:
``{"cases": N, "differences": [{"case", "direct", "proxied"}...], "direct": {verdict: count}}``
and exits 1 when a case differs, 2 when the run itself failed. ``fast`` is the cases that run in
seconds (framing, pings, reserved bits, opcodes, fragmentation, UTF-8, close, limits, and the first
compression cases of 12.1 and 13.1); ``all`` leaves out only 9.* (performance, minutes per case).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

# The compression cases with small messages; 12.1.4 and up send a thousand larger messages each.
FAST = ['1.*', '2.*', '3.*', '4.*', '5.*', '6.*', '7.*', '10.*', '12.1.1', '12.1.2', '12.1.3', '13.1.1', '13.1.2',
        '13.1.3']
ALL = ['*']
EXCLUDE_ALL = ['9.*']


def start(command, ready, env=None):
    """Starts a process and returns it with the first line matching ``ready`` (stdout or stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    for line in process.stdout:
        match = re.search(ready, line)
        if match:
            return process, match
    raise SystemExit(f'compare.py: {command[0]} exited before it was ready')


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    peers = os.path.join(here, '..', 'peers')
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--wstest', required=True)
    parser.add_argument('--siotape', required=True)
    parser.add_argument('--cases', default='fast')
    parser.add_argument('--workdir', default=None)
    args = parser.parse_args()
    args.wstest, args.siotape = os.path.abspath(args.wstest), os.path.abspath(args.siotape)
    cases = FAST if args.cases == 'fast' else ALL if args.cases == 'all' else args.cases.split(',')
    exclude = EXCLUDE_ALL if args.cases == 'all' else []
    work = args.workdir or tempfile.mkdtemp(prefix='siotape-autobahn-')
    os.makedirs(work, exist_ok=True)

    echo, match = start([sys.executable, os.path.join(peers, 'ws_echo.py')], r'READY (\d+)')
    echo_port = int(match.group(1))
    proxy, match = start([args.siotape, 'record', '--upstream', f'http://127.0.0.1:{echo_port}',
                          '--listen', '127.0.0.1:0', '--live', 'off',
                          '--out', os.path.join(work, 'autobahn.siotape.gz')], r'listening on 127\.0\.0\.1:(\d+)')
    proxy_port = int(match.group(1))
    path = '/socket.io/?EIO=4&transport=websocket'
    spec = {
        'outdir': os.path.join(work, 'reports'),
        'servers': [{'agent': 'direct', 'url': f'ws://127.0.0.1:{echo_port}{path}'},
                    {'agent': 'proxied', 'url': f'ws://127.0.0.1:{proxy_port}{path}'}],
        'cases': cases, 'exclude-cases': exclude, 'exclude-agent-cases': {},
    }
    spec_path = os.path.join(work, 'fuzzingclient.json')
    with open(spec_path, 'w') as out:
        json.dump(spec, out)
    try:
        run = subprocess.run([args.wstest, '-m', 'fuzzingclient', '-s', spec_path], cwd=work,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    finally:
        proxy.terminate()
        echo.terminate()
        proxy_status = proxy.wait()
        echo.wait()
    index_path = os.path.join(work, 'reports', 'index.json')
    if run.returncode != 0 or not os.path.exists(index_path):
        print(run.stdout[-3000:], file=sys.stderr)
        raise SystemExit(2)
    with open(index_path) as source:
        index = json.load(source)
    direct, proxied = index.get('direct', {}), index.get('proxied', {})
    differences = []
    verdicts = {}
    for case in sorted(set(direct) | set(proxied), key=lambda c: [int(p) for p in c.split('.')]):
        a, b = direct.get(case, {}), proxied.get(case, {})
        left = (a.get('behavior'), a.get('behaviorClose'))
        right = (b.get('behavior'), b.get('behaviorClose'))
        verdicts[left[0]] = verdicts.get(left[0], 0) + 1
        if left != right:
            differences.append({'case': case, 'direct': left, 'proxied': right})
    report = {'cases': len(direct), 'differences': differences, 'direct': verdicts,
              'proxy_exit': proxy_status, 'reports': os.path.join(work, 'reports')}
    print(json.dumps(report))
    sys.exit(1 if differences or not direct else 0)


if __name__ == '__main__':
    main()
