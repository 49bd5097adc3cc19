"""pytest fixtures of the examples: the mock chat server, made from a committed recording."""
import pathlib

import pytest

from siotape_replay import replay_serve

RECORDINGS = pathlib.Path(__file__).parent / "recordings"


@pytest.fixture
def chat_server():
    """The URL of a mock chat server that plays recordings/chat-send.siotape.gz.

    After the test, the fixture checks that the client played the recorded session to its end and
    sent nothing the recording lacks (replay serve's exit status).
    """
    with replay_serve(RECORDINGS / "chat-send.siotape.gz") as url:
        yield url
