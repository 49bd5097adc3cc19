"""Authenticated org notifications (python-socketio + aiohttp), as in a video-processing dashboard.

CONNECT must carry `auth: {token: <HS256 JWT {sub, org}>}` signed with the test secret, else the
connection is refused with CONNECT_ERROR {"message": "missing token" | "invalid token"}. Each
socket joins `org:<org>` and gets `welcome {user, token}` (the token it connected with, echoed as
some servers do) and `session {user, org}`. `video:subscribe {videoId}` (ack) joins
`video:<id>` for a video of the caller's org. `video:process {videoId, fail?}` (ack {jobId})
starts a short background job that emits `video:progress {videoId, progress}` 10, 40, 70 then
`video:processed` or `video:failed` to the org room only, and `video:status` to `video:<id>`.
HTTP: POST /api/login {"user", "password"} answers {"token": <JWT>, "user", "org"} for a known
user whose password is `<user>-password` (401 {"error": "bad credentials"} otherwise): the JWT a
client then sends in its CONNECT `auth`. POST /api/admin/drop {"user"} aborts that user's
transports (no close packet), so their clients see a lost connection and reconnect.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '_lib'))
sys.path.insert(0, HERE)
import jwt_hs256  # noqa: E402
import serve  # noqa: E402

import socketio  # noqa: E402
from aiohttp import web  # noqa: E402

# SIOTAPE_APP_CHANGE=<mode> makes the app differ from its recording in one packet (tools/apps/README.md).
CHANGE = os.environ.get('SIOTAPE_APP_CHANGE', '')

sio = socketio.AsyncServer(async_mode='aiohttp', cors_allowed_origins='*')
app = web.Application()
sio.attach(app)

VIDEOS = {'a1': 'acme', 'a2': 'acme', 'b1': 'globex'}   # video id -> owning org
ORGS = {'alice': 'acme', 'bob': 'acme', 'carol': 'globex'}  # user -> org (password: <user>-password)
STEP = 0.01      # seconds between job steps
jobs = 0
users = {}       # user -> set of sids


@sio.event
async def connect(sid, environ, auth):
    token = (auth or {}).get('token') if isinstance(auth, dict) else None
    if not token:
        raise socketio.exceptions.ConnectionRefusedError('missing token')
    try:
        claims = jwt_hs256.decode(token)
        user, org = claims['sub'], claims['org']
    except (ValueError, KeyError, TypeError):
        raise socketio.exceptions.ConnectionRefusedError('bad signature' if CHANGE == 'error' else 'invalid token')
    await sio.save_session(sid, {'user': user, 'org': org})
    users.setdefault(user, set()).add(sid)
    await sio.enter_room(sid, f'org:{org}')
    await sio.emit('welcome', {'user': user, 'token': token}, to=sid)
    await sio.emit('session', {'user': user, 'org': org}, to=sid)


@sio.event
async def disconnect(sid, reason=None):
    s = await sio.get_session(sid)
    if s:
        users.get(s['user'], set()).discard(sid)


@sio.on('video:subscribe')
async def video_subscribe(sid, data):
    s = await sio.get_session(sid)
    vid = (data or {}).get('videoId')
    if VIDEOS.get(vid) != s['org']:
        return {'error': 'forbidden', 'videoId': vid}
    await sio.enter_room(sid, f'video:{vid}')
    return {'subscribed': vid}


@sio.on('video:process')
async def video_process(sid, data):
    global jobs
    s = await sio.get_session(sid)
    vid = (data or {}).get('videoId')
    if VIDEOS.get(vid) != s['org']:
        return {'error': 'forbidden', 'videoId': vid}
    jobs += 1
    sio.start_background_task(job, jobs, vid, s['org'], bool((data or {}).get('fail')))
    return {'jobId': jobs, 'videoId': vid}


async def job(job_id, vid, org, fail):
    await sio.emit('video:status', {'videoId': vid, 'jobId': job_id, 'status': 'processing'},
                   to=f'video:{vid}')
    for pct in (10, 40, 70):
        await sio.sleep(STEP)
        await sio.emit('video:progress', {'videoId': vid, 'jobId': job_id, 'progress': pct},
                       to=f'org:{org}')
    await sio.sleep(STEP)
    if fail:
        await sio.emit('video:failed', {'videoId': vid, 'jobId': job_id, 'error': 'transcoder exited with status 1'},
                       to=f'org:{org}')
    else:
        await sio.emit('video:processed', {'videoId': vid, 'jobId': job_id, 'url': f'/videos/{vid}.mp4'},
                       to=f'org:{org}')
    await sio.emit('video:status', {'videoId': vid, 'jobId': job_id, 'status': 'failed' if fail else 'done'},
                   to=f'video:{vid}')


async def admin_drop(request):
    body = await request.json()
    dropped = 0
    for sid in list(users.get(body.get('user'), ())):
        eio_sid = sio.manager.eio_sid_from_sid(sid, '/')
        sock = sio.eio.sockets.get(eio_sid) if eio_sid else None
        if sock is None:
            continue
        # abort: no close packet, the transport just ends -> the client sees a lost connection
        await sock.close(wait=False, abort=True)
        await sock.queue.put(None)       # releases a pending polling GET / the websocket writer
        dropped += 1
    return web.json_response({'dropped': dropped})


async def login(request):
    body = await request.json()
    user = body.get('user')
    if user not in ORGS or body.get('password') != f'{user}-password':
        return web.json_response({'error': 'wrong password' if CHANGE == 'login' else 'bad credentials'}, status=401)
    token = jwt_hs256.encode({'sub': user, 'org': ORGS[user]})
    return web.json_response({'token': token, 'user': user, 'org': ORGS[user]})


app.router.add_post('/api/login', login)
app.router.add_post('/api/admin/drop', admin_drop)

if __name__ == '__main__':
    args = serve.parse_args(__doc__.splitlines()[0])
    serve.serve_aiohttp(app, args.port)
