"""Scenario for `job-stream`: POST /api/ingest twice, one client joins each execution; each sees
only its own output lines then `complete`; the server's emit with a callback is acked by the
client and the server confirms it received the ack."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
from scenario_lib import Peer, check, http, parse_args, run  # noqa: E402


def ingest(args, name, lines):
    r = http('POST', f'{args.url}/api/ingest', args.timeout, json={'name': name, 'lines': lines})
    check(r.status_code == 201, f'POST /api/ingest: {r.status_code} {r.text}')
    eid = r.json().get('execution_id')
    check(eid, f'POST /api/ingest: no execution_id in {r.text}')
    return eid


def main(args, peers):
    builder, tester = Peer('builder', args), Peer('tester', args)
    peers += [builder, tester]
    jobs = {builder: ('build', 6), tester: ('test', 3)}
    for p, (name, n) in jobs.items():
        p.on('confirm_complete', lambda d, n=n: {'received': True, 'lines': n})
        p.connect()

    eids = {p: ingest(args, name, n) for p, (name, n) in jobs.items()}
    for p, eid in eids.items():
        p.emit('join_execution', {'execution_id': eid})
        p.wait_for('joined', lambda d, eid=eid: d['execution_id'] == eid)

    for p, (name, n) in jobs.items():
        eid = eids[p]
        done = p.wait_for('complete', lambda d, eid=eid: d['execution_id'] == eid)[2]
        check(done['status'] == 'success', f'{p.name}: complete {done}')
        lines = [e[2] for e in p.received('output')]
        want = [{'execution_id': eid, 'data': f'[{name}] step {i}/{n}'} for i in range(1, n + 1)]
        check(lines == want, f'{p.name}: output lines {lines}, expected {want}')
        got = p.wait_for('confirm_complete')[2]
        check(got == {'execution_id': eid, 'lines': n}, f'{p.name}: confirm_complete {got}')
        ack = p.wait_for('ack_received')[2]
        check(ack == {'execution_id': eid, 'client_ack': {'received': True, 'lines': n}},
              f'{p.name}: server did not get the ack: {ack}')
        r = http('GET', f'{args.url}/api/executions/{eid}', args.timeout)
        check(r.status_code == 200 and r.json()['status'] == 'success', f'GET execution {eid}: {r.text}')
        for ev in ('output', 'complete', 'confirm_complete'):
            p.assert_none(ev, pred=lambda d, eid=eid: d['execution_id'] != eid)

    r = http('GET', f'{args.url}/api/executions/999999', args.timeout)
    check(r.status_code == 404, f'GET unknown execution: {r.status_code}')
    return {p.name: p.events() for p in peers}


if __name__ == '__main__':
    run(main, parse_args(__doc__.splitlines()[0]), normalize_keys=('execution_id', 'room'))
