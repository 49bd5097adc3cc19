// Browser client for ns-chat (served as a static file; the scenario uses python-socketio).
const socket = io();
const $ = (id) => document.getElementById(id);
const add = (list, text) => { const li = document.createElement('li'); li.textContent = text; $(list).appendChild(li); };
$('join').onsubmit = (e) => { e.preventDefault(); socket.emit('join', { username: $('username').value });
  socket.emit('join-room', { room: $('room').value }); };
$('send').onsubmit = (e) => { e.preventDefault(); socket.emit('room-message', { room: $('room').value, text: $('text').value }); };
$('text').oninput = () => socket.emit('typing', { room: $('room').value });
socket.on('users-list', (users) => { $('users').innerHTML = ''; users.forEach((u) => add('users', u.username)); });
socket.on('room-message', (m) => add('messages', `${m.user}: ${m.text}`));
socket.on('private-message', (m) => add('messages', `(private) ${m.username}: ${m.text}`));
socket.on('admin-broadcast', (m) => add('messages', `[admin] ${m.message}`));
socket.on('file-shared', (f) => add('messages', `${f.from} shared ${f.name} (${f.size} bytes)`));
