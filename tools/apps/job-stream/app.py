"""Streaming job output (Flask-SocketIO), as in a tool that runs jobs and streams their log.

HTTP: `POST /api/ingest {name, lines}` creates an execution and returns `{execution_id}`;
`GET /api/executions/<id>` returns its state. Socket.IO: `join_execution {execution_id}` joins
`exec_<id>` (answered `joined`); the job starts when its first watcher has joined, emits
`output {execution_id, data}` lines then `complete {execution_id, status}` to that room only,
then asks the first watcher to acknowledge with a server-side emit with a callback
(`confirm_complete`); the client's ack is reported back as `ack_received`.
"""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
import serve  # noqa: E402

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, emit, join_room  # noqa: E402

# SIOTAPE_APP_CHANGE=<mode> makes the app differ from its recording in one packet (tools/apps/README.md).
CHANGE = os.environ.get('SIOTAPE_APP_CHANGE', '')

app = Flask(__name__)
socketio = SocketIO(app, async_mode='threading', cors_allowed_origins='*')

STEP = 0.005           # seconds between output lines
# A job starts anyway if nobody joins by then. Generous: a replay run started right after the
# executions were created may join many seconds later on a loaded machine, and a job that ran
# before its watcher joined would look like missing output.
JOIN_TIMEOUT = 120.0
lock = threading.Lock()
executions = {}        # id -> dict
counter = 0


@app.post('/api/ingest')
def ingest():
    global counter
    body = request.get_json(silent=True) or {}
    name = str(body.get('name', 'job'))
    lines = int(body.get('lines', 5))
    if not 0 < lines <= 1000:
        return jsonify({'error': 'lines must be 1..1000'}), 400
    with lock:
        counter += 1
        eid = str(counter)
        executions[eid] = {'name': name, 'lines': lines, 'status': 'pending', 'watchers': [],
                           'joined': threading.Event(), 'client_ack': None}
    socketio.start_background_task(run_job, eid)
    return jsonify({'execution_id': eid}), 202 if CHANGE == 'ingest' else 201


@app.get('/api/executions/<eid>')
def execution(eid):
    ex = executions.get(eid)
    if ex is None:
        return jsonify({'error': 'unknown execution'}), 404
    return jsonify({'execution_id': eid, 'name': ex['name'], 'status': ex['status'],
                    'client_ack': ex['client_ack']})


@socketio.on('join_execution')
def join_execution(data):
    eid = str((data or {}).get('execution_id'))
    ex = executions.get(eid)
    if ex is None:
        emit('error', {'message': f'unknown execution {eid}'})
        return
    join_room(f'exec_{eid}')
    with lock:
        ex['watchers'].append(request.sid)
    emit('joined', {'execution_id': eid, 'room': f'exec_{eid}'})
    ex['joined'].set()


def run_job(eid):
    ex = executions[eid]
    ex['joined'].wait(JOIN_TIMEOUT)
    ex['status'] = 'running'
    room = f'exec_{eid}'
    for i in range(1, ex['lines'] + 1):
        if CHANGE == 'drop' and i == 3 and ex['lines'] == 6:
            continue
        socketio.emit('output', {'execution_id': eid, 'data': f'[{ex["name"]}] step {i}/{ex["lines"]}'}, to=room)
        socketio.sleep(STEP)
    ex['status'] = 'success'
    socketio.emit('complete', {'execution_id': eid, 'status': 'success', 'exit_code': 0}, to=room)
    if ex['watchers']:
        sid = ex['watchers'][0]

        def on_ack(*args):
            ex['client_ack'] = args[0] if len(args) == 1 else list(args)
            socketio.emit('ack_received', {'execution_id': eid, 'client_ack': ex['client_ack']}, to=sid)

        socketio.emit('confirm_complete', {'execution_id': eid, 'lines': ex['lines']}, to=sid, callback=on_ack)


if __name__ == '__main__':
    args = serve.parse_args(__doc__.splitlines()[0])
    serve.serve_wsgi(app, args.port)
