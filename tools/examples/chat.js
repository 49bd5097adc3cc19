// The browser client under test in these examples: the chat client of chat_client.py, as a web
// page's JavaScript would have it, on the official socket.io client (the global `io`).
async function sendMessage(url, userId, conversationId, text) {
  const socket = io(url, { auth: { userId }, reconnection: false, timeout: 5000 });
  try {
    await new Promise((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("connect_error", reject);
    });
    const joined = await socket.timeout(5000).emitWithAck("conversation:join", { conversationId });
    if (!joined.success) throw new Error(`could not join ${conversationId}: ${JSON.stringify(joined)}`);
    return await socket.timeout(5000).emitWithAck("message:send", { conversationId, text });
  } finally {
    socket.disconnect();
  }
}
