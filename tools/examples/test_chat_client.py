"""A client tested against a recording: no real server, no network beyond loopback."""
from chat_client import send_message


def test_send_message_is_acknowledged(chat_server):
    ack = send_message(chat_server, "alice", "general", "hello team")
    assert ack == {"success": True, "messageId": 1}
