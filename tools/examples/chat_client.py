"""The client under test in these examples: a small chat client, as an application would have one.

It speaks to the chat-acks sample app (tools/apps/chat-acks): CONNECT with `auth {userId}`, join a
conversation, send one message and return the server's acknowledgement. The tests in this folder
run it against `siotape replay serve` of a recording instead of the real server.
"""
import socketio


def send_message(url, user_id, conversation_id, text, timeout=5):
    """Joins `conversation_id` as `user_id`, sends `text`; returns the ack of `message:send`."""
    client = socketio.Client(reconnection=False)
    client.connect(url, auth={"userId": user_id}, wait_timeout=timeout)
    try:
        joined = client.call("conversation:join", {"conversationId": conversation_id}, timeout=timeout)
        if not joined.get("success"):
            raise RuntimeError(f"could not join {conversation_id}: {joined}")
        return client.call("message:send", {"conversationId": conversation_id, "text": text}, timeout=timeout)
    finally:
        client.disconnect()
