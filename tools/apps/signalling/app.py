"""Rooms and WebRTC signalling (Flask-SocketIO), as in a camera/viewer pairing app.

Events: connect -> `connected`; `ping` -> `pong`; `join_room {code, type}` joins the 6-digit
room `code` as a camera or viewer and answers `join_room_success` (others get `peer_joined`);
`offer`, `answer`, `ice_candidate` are forwarded to the other members of the sender's room
only, tagged `from` with the sender's sid (`join_room_success` tells each member its own as `id`); on disconnect the member is removed (others get `peer_left`) and empty rooms are deleted.
HTTP: GET /api/rooms lists the rooms and their members' types.
"""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
import serve  # noqa: E402

from flask import Flask, jsonify, request  # noqa: E402
from flask_socketio import SocketIO, emit, join_room, leave_room  # noqa: E402

# SIOTAPE_APP_CHANGE=<mode> makes the app differ from its recording in one packet (tools/apps/README.md).
CHANGE = os.environ.get('SIOTAPE_APP_CHANGE', '')

app = Flask(__name__)
socketio = SocketIO(app, async_mode='threading', cors_allowed_origins='*')

lock = threading.Lock()
rooms = {}     # code -> {sid: type}
member = {}    # sid -> code

CODE = re.compile(r'^\d{6}$')


@app.get('/api/rooms')
def list_rooms():
    with lock:
        return jsonify({'rooms': {c: sorted(m.values()) for c, m in sorted(rooms.items())}})


@socketio.on('connect')
def on_connect(auth=None):
    emit('connected', {'message': 'connected to signalling server'})


@socketio.on('ping')
def on_ping(data=None):
    emit('pong', data if data is not None else {})


@socketio.on('join_room')
def on_join(data):
    code = str((data or {}).get('code', ''))
    kind = (data or {}).get('type')
    if not CODE.match(code) or kind not in ('camera', 'viewer'):
        message = 'join_room needs a 6-digit code and type camera|viewer'
        emit('error', {'message': message.replace('6-digit', 'six-digit') if CHANGE == 'reply' else message})
        return
    sid = request.sid
    _leave(sid)
    with lock:
        rooms.setdefault(code, {})[sid] = kind
        member[sid] = code
        count = len(rooms[code])
    join_room(code)
    emit('join_room_success', {'code': code, 'type': kind, 'members': count, 'id': sid})
    emit('peer_joined', {'type': kind, 'members': count}, to=code, skip_sid=sid)


def _forward(event, data):
    code = member.get(request.sid)
    if code is None:
        emit('error', {'message': f'{event}: join a room first'})
        return
    emit(event, {**(data or {}), 'from': request.sid}, to=code, skip_sid=request.sid)


@socketio.on('offer')
def on_offer(data):
    _forward('offer', data)


@socketio.on('answer')
def on_answer(data):
    _forward('answer', data)


@socketio.on('ice_candidate')
def on_ice(data):
    _forward('ice_candidate', data)


def _leave(sid):
    with lock:
        code = member.pop(sid, None)
        if code is None:
            return
        kind = rooms.get(code, {}).pop(sid, None)
        left = len(rooms.get(code, {}))
        if not left:
            rooms.pop(code, None)
    leave_room(code, sid=sid)
    if left:
        socketio.emit('peer_left', {'type': kind, 'members': left}, to=code)


@socketio.on('disconnect')
def on_disconnect(reason=None):
    _leave(request.sid)


if __name__ == '__main__':
    args = serve.parse_args(__doc__.splitlines()[0])
    serve.serve_wsgi(app, args.port)
