// Browser client for ns-chat. socket.io.min.js comes from the app itself (/vendor/), not a CDN.
const socket = io();
const $ = (id) => document.getElementById(id);
const add = (list, text) => { const li = document.createElement('li'); li.textContent = text; $(list).appendChild(li); };
const ids = {};  // username -> socket id, as users-list gives them
$('join').onsubmit = (e) => { e.preventDefault(); socket.emit('join', { username: $('username').value });
  socket.emit('join-room', { room: $('room').value }); };
$('send').onsubmit = (e) => { e.preventDefault(); socket.emit('room-message', { room: $('room').value, text: $('text').value }); };
$('text').oninput = () => socket.emit('typing', { room: $('room').value });
$('private').onsubmit = (e) => {
  e.preventDefault();
  const to = $('to').value;
  socket.emit('private-message', { to: ids[to] || to, text: $('private-text').value },
    (ack) => add('messages', `(to ${to}) ${ack && ack.delivered ? 'delivered' : 'not delivered'}`));
};
socket.on('users-list', (users) => {
  $('users').innerHTML = '';
  users.forEach((u) => { ids[u.username] = u.socketId; add('users', u.username); });
});
socket.on('join-error', (m) => add('messages', `join refused: ${m.message}`));
socket.on('room-joined', (r) => add('messages', `you joined ${r.room}`));
socket.on('room-notice', (n) => add('messages', n.message));
socket.on('room-message', (m) => add('messages', `${m.user}: ${m.text}`));
socket.on('private-message', (m) => add('messages', `(private) ${m.username}: ${m.text}`));
socket.on('admin-broadcast', (m) => add('messages', `[admin] ${m.message}`));
socket.on('file-shared', (f) => add('messages', `${f.from} shared ${f.name} (${f.size} bytes)`));
