"""Namespaced chat (python-socketio + aiohttp), as in an Express chat tutorial.

HTTP: GET / (static/index.html), /static/*, the server's own page GET /status, and the official
socket.io browser client at GET /vendor/socket.io.min.js, from the file given with --socketio-js
(404 without it: the file is third-party and not part of the repository; tools/setup-browser takes
it out of PyPI's nicegui wheel). The page loads nothing from a CDN.
Default namespace: `join {username}` then `users-list [{username, socketId}]` to everyone (as the
Express chat does, with each user's socket id); `join-room {room}` (`room-joined` to the sender,
`room-notice` to the room); `room-message {room, text}` to the room; `private-message {to: socketId,
text}` (ack) to that socket, delivered as `{from: <sender's socket id>, username, text}`; `typing` / `stop-typing {room}` to the
others in the room; `cursor {room, x, y}` relayed as a *volatile* emit (dropped for a recipient
whose outgoing queue is not empty); `file-share {room, name, mime, data: <bytes>}` (ack
{size, sha256}) relayed to the others in the room as `file-shared` with the binary attachment;
disconnect removes the user and re-broadcasts `users-list` (to the others).
`/admin` namespace (CONNECT auth {token: "admin-secret"}): `admin-broadcast {message}` (ack
{delivered}) reaches every client of the default namespace.
"""
import hashlib
import html
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '_lib'))
import serve  # noqa: E402

import socketio  # noqa: E402
from aiohttp import web  # noqa: E402

ADMIN_TOKEN = 'admin-secret'
# SIOTAPE_APP_CHANGE=<mode> makes the app differ from its recording in one packet (tools/apps/README.md).
CHANGE = os.environ.get('SIOTAPE_APP_CHANGE', '')

sio = socketio.AsyncServer(async_mode='aiohttp', cors_allowed_origins='*', max_http_buffer_size=1_000_000)
app = web.Application()
sio.attach(app)

names = {}      # sid -> username
sids = {}       # username -> sid
dropped_volatile = 0


async def users_list(leaving=None):
    # Not to a socket that is leaving: it has closed, and a browser would never see the list.
    await sio.emit('users-list', [{'username': name, 'socketId': sids[name]} for name in sorted(sids)],
                   skip_sid=leaving)


@sio.event
async def connect(sid, environ, auth=None):
    pass


@sio.event
async def join(sid, data):
    name = str((data or {}).get('username', '')).strip()
    if not name or (name in sids and sids[name] != sid):
        await sio.emit('join-error', {'message': 'username missing or taken'}, to=sid)
        return
    names[sid] = name
    sids[name] = sid
    await users_list()


@sio.on('join-room')
async def join_room(sid, data):
    room = str((data or {}).get('room', ''))
    if not room or sid not in names:
        return
    await sio.enter_room(sid, room)
    await sio.emit('room-joined', {'room': room}, to=sid)
    await sio.emit('room-notice', {'room': room, 'message': f'{names[sid]} joined {room}'}, room=room, skip_sid=sid)


@sio.on('room-message')
async def room_message(sid, data):
    room = (data or {}).get('room')
    if room in sio.rooms(sid) and sid in names:
        await sio.emit('room-message', {'room': room, 'user': names[sid], 'text': (data or {}).get('text')}, room=room)


@sio.on('private-message')
async def private_message(sid, data):
    to = (data or {}).get('to')
    if to not in names or sid not in names:
        return {'delivered': False}
    await sio.emit('private-message', {'from': sid, 'username': names[sid], 'text': (data or {}).get('text')}, to=to)
    return {'delivered': True}


async def _typing(sid, data, event):
    room = (data or {}).get('room')
    if room in sio.rooms(sid) and sid in names:
        await sio.emit(event, {'room': room, 'user': names[sid]}, room=room, skip_sid=sid)


@sio.on('typing')
async def typing(sid, data):
    await _typing(sid, data, 'typing')


@sio.on('stop-typing')
async def stop_typing(sid, data):
    await _typing(sid, data, 'stop-typing')


@sio.on('cursor')
async def cursor(sid, data):
    """Volatile relay: python-socketio has no `volatile` flag, so do what Socket.IO's does —
    drop the packet for a recipient that is not ready to take it right now."""
    global dropped_volatile
    room = (data or {}).get('room')
    if room not in sio.rooms(sid) or sid not in names:
        return
    msg = {'room': room, 'user': names[sid], 'x': data.get('x'), 'y': data.get('y')}
    for other_sid, eio_sid in list(sio.manager.get_participants('/', room)):
        if other_sid == sid:
            continue
        sock = sio.eio.sockets.get(eio_sid)
        if sock is None or sock.closing or not sock.queue.empty():
            dropped_volatile += 1
            continue
        await sio.emit('cursor', msg, to=other_sid)


@sio.on('file-share')
async def file_share(sid, data):
    room = (data or {}).get('room')
    blob = (data or {}).get('data')
    if room not in sio.rooms(sid) or sid not in names or not isinstance(blob, (bytes, bytearray)):
        return {'ok': False, 'error': 'join the room and send bytes'}
    await sio.emit('file-shared', {'room': room, 'from': names[sid], 'name': data.get('name'),
                                   'mime': data.get('mime'), 'size': len(blob),
                                   'data': bytes(blob)[:-1] + b'!' if CHANGE == 'binary' else bytes(blob)},
                   room=room, skip_sid=sid)
    return {'ok': True, 'size': len(blob), 'sha256': hashlib.sha256(blob).hexdigest()}


@sio.event
async def disconnect(sid, reason=None):
    name = names.pop(sid, None)
    if name is not None and sids.get(name) == sid:
        del sids[name]
        await users_list(leaving=sid)


@sio.on('connect', namespace='/admin')
async def admin_connect(sid, environ, auth=None):
    if not isinstance(auth, dict) or auth.get('token') != ADMIN_TOKEN:
        raise socketio.exceptions.ConnectionRefusedError('admin token required')


@sio.on('admin-broadcast', namespace='/admin')
async def admin_broadcast(sid, data):
    message = (data or {}).get('message')
    delivered = len(list(sio.manager.get_participants('/', None)))
    await sio.emit('admin-broadcast', {'from': 'admin', 'message': message}, namespace='/')
    return {'delivered': delivered}


async def index(request):
    return web.FileResponse(os.path.join(HERE, 'static', 'index.html'))


async def status(request):
    users = ''.join(f'<li>{html.escape(n)}</li>' for n in sorted(sids))
    return web.Response(content_type='text/html', text=(
        '<!doctype html><html><head><title>ns-chat status</title></head><body>'
        f'<h1>ns-chat {"state" if CHANGE == "status" else "status"}</h1><p>{len(sids)} users online</p><ul>{users}</ul>'
        f'<p>volatile packets dropped: {dropped_volatile}</p></body></html>'))


socketio_js = None  # --socketio-js


async def vendor_socketio(request):
    if socketio_js is None:
        return web.Response(status=404, text='start the app with --socketio-js FILE to serve the socket.io client\n')
    return web.FileResponse(socketio_js, headers={'Content-Type': 'text/javascript; charset=utf-8'})


app.router.add_get('/', index)
app.router.add_get('/status', status)
app.router.add_get('/vendor/socket.io.min.js', vendor_socketio)
app.router.add_static('/static/', os.path.join(HERE, 'static'))

if __name__ == '__main__':
    args = serve.parse_args(__doc__.splitlines()[0], extra=lambda p: p.add_argument(
        '--socketio-js', metavar='FILE', help='the socket.io browser client served at /vendor/socket.io.min.js'))
    socketio_js = args.socketio_js
    serve.serve_aiohttp(app, args.port)
