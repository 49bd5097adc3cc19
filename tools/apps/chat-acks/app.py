"""Chat with acknowledgements (python-socketio + aiohttp), as in a TypeScript chat backend.

CONNECT auth `{userId}` identifies the user (refused with CONNECT_ERROR without one); a user may
have several sockets. Presence: `user:online {userId}` to everyone else when a user's first
socket connects, `user:offline` when the last one disconnects; `presence:list` (ack) lists who
is online. `conversation:join/leave {conversationId}` (ack {success}). `message:send
{conversationId, text}` acks `{success, messageId}` and emits `message:new` to the conversation
except the sending socket. `typing:start/stop {conversationId}` go to the others in it.
`message:read {messageId}` sends a read receipt `message:read` to the author's sockets.
`message:private {toUserId, text}` (ack) reaches every socket of that user.
HTTP: GET /api/socket/health.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '_lib'))
import serve  # noqa: E402

import socketio  # noqa: E402
from aiohttp import web  # noqa: E402

# SIOTAPE_APP_CHANGE=<mode> makes the app differ from its recording in one packet (tools/apps/README.md).
CHANGE = os.environ.get('SIOTAPE_APP_CHANGE', '')

sio = socketio.AsyncServer(async_mode='aiohttp', cors_allowed_origins='*')
app = web.Application()
sio.attach(app)

sockets_of = {}     # userId -> set of sids
messages = {}       # messageId -> {conversationId, senderId}
counter = 0


def next_id():
    global counter
    counter += 1
    return counter


async def user_of(sid):
    return (await sio.get_session(sid))['userId']


@sio.event
async def connect(sid, environ, auth):
    user = (auth or {}).get('userId') if isinstance(auth, dict) else None
    if not isinstance(user, str) or not user:
        raise socketio.exceptions.ConnectionRefusedError('userId required')
    await sio.save_session(sid, {'userId': user})
    await sio.enter_room(sid, f'user:{user}')
    first = not sockets_of.get(user)
    sockets_of.setdefault(user, set()).add(sid)
    if first:
        await sio.emit('user:online', {'userId': user}, skip_sid=list(sockets_of[user]))


@sio.event
async def disconnect(sid, reason=None):
    s = await sio.get_session(sid)
    if not s:
        return
    user = s['userId']
    mine = sockets_of.get(user, set())
    mine.discard(sid)
    if not mine:
        sockets_of.pop(user, None)
        await sio.emit('user:offline', {'userId': user}, skip_sid=sid)


@sio.on('presence:list')
async def presence_list(sid, data=None):
    return {'online': sorted(sockets_of)}


@sio.on('conversation:join')
async def conversation_join(sid, data):
    conv = (data or {}).get('conversationId')
    if not conv:
        return {'success': False, 'error': 'conversationId required'}
    await sio.enter_room(sid, f'conv:{conv}')
    return {'success': True, 'conversationId': conv}


@sio.on('conversation:leave')
async def conversation_leave(sid, data):
    conv = (data or {}).get('conversationId')
    await sio.leave_room(sid, f'conv:{conv}')
    return {'success': True, 'conversationId': conv}


@sio.on('message:send')
async def message_send(sid, data):
    conv, text = (data or {}).get('conversationId'), (data or {}).get('text')
    if f'conv:{conv}' not in sio.rooms(sid):
        return {'success': False, 'error': 'not a member of this conversation'}
    if not isinstance(text, str) or not text:
        return {'success': False, 'error': 'text required'}
    user = await user_of(sid)
    mid = next_id()
    messages[mid] = {'conversationId': conv, 'senderId': user}
    await sio.emit('message:new', {'messageId': mid, 'conversationId': conv, 'senderId': user, 'text': text},
                   room=f'conv:{conv}', skip_sid=sid)
    return {'success': True, 'messageId': mid}


async def _typing(sid, data, event):
    conv = (data or {}).get('conversationId')
    if f'conv:{conv}' in sio.rooms(sid):
        await sio.emit(event, {'conversationId': conv, 'userId': await user_of(sid)},
                       room=f'conv:{conv}', skip_sid=sid)


@sio.on('typing:start')
async def typing_start(sid, data):
    await _typing(sid, data, 'typing:start')


@sio.on('typing:stop')
async def typing_stop(sid, data):
    await _typing(sid, data, 'typing:stop')


@sio.on('message:read')
async def message_read(sid, data):
    mid = (data or {}).get('messageId')
    msg = messages.get(mid)
    if msg is None:
        return {'success': False, 'error': 'unknown message'}
    await sio.emit('message:read', {'messageId': mid, 'conversationId': msg['conversationId'],
                                    'readerId': await user_of(sid)}, room=f'user:{msg["senderId"]}')
    return {'success': True}


@sio.on('message:private')
async def message_private(sid, data):
    to, text = (data or {}).get('toUserId'), (data or {}).get('text')
    if to not in sockets_of:
        return {'success': False, 'error': 'user is offline'}
    mid = next_id()
    await sio.emit('message:private', {'messageId': mid, 'fromUserId': await user_of(sid), 'text': text},
                   room=f'user:{to}')
    if CHANGE == 'ack':
        return {'success': True, 'messageId': mid, 'queued': True}
    return {'success': True, 'messageId': mid}


async def health(request):
    return web.json_response({'status': 'ok', 'users': len(sockets_of),
                              'sockets': sum(len(s) for s in sockets_of.values())})


app.router.add_get('/api/socket/health', health)

if __name__ == '__main__':
    args = serve.parse_args(__doc__.splitlines()[0])
    serve.serve_aiohttp(app, args.port)
