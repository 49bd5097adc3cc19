"""The same test for a browser client: Playwright drives Chromium, whose page runs chat.js on the
official socket.io client against the mock server.

Needs the socket.io browser client (SIOTAPE_SOCKETIO_JS: the path of socket.io.min.js, as shipped
by the socket.io npm package in dist/) and a Chromium (SIOTAPE_CHROMIUM, default /usr/bin/chromium).
"""
import os
import pathlib

import pytest
from playwright.sync_api import sync_playwright

HERE = pathlib.Path(__file__).parent


@pytest.fixture(scope="module")
def page():
    socketio_js = os.environ.get("SIOTAPE_SOCKETIO_JS")
    if not socketio_js:
        pytest.skip("SIOTAPE_SOCKETIO_JS is not set (tools/setup-browser provides it)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("SIOTAPE_CHROMIUM", "/usr/bin/chromium"))
        page = browser.new_page()
        page.set_content("<!doctype html><title>chat</title>")
        page.add_script_tag(path=socketio_js)
        page.add_script_tag(path=str(HERE / "chat.js"))
        yield page
        browser.close()


def test_browser_send_message_is_acknowledged(page, chat_server):
    ack = page.evaluate("url => sendMessage(url, 'alice', 'general', 'hello team')", chat_server)
    assert ack == {"success": True, "messageId": 1}
