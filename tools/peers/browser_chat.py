#!/usr/bin/env python3
"""ns-chat's own page (tools/apps/ns-chat/static) in Debian's chromium, driven by Playwright: two
users chat through the page's forms and what each page shows is printed.

    browser_chat.py --url URL [--chromium /usr/bin/chromium] [--har FILE]

URL serves the page, its script and socket.io.min.js (the app, `siotape record` in front of it, or
`siotape replay serve`); the browser's cache is off, so each page loads them. The scenario, each step waiting for what it should show: alice opens the
page and joins the lobby; bob does; alice types and sends "hello lobby"; bob sends alice a private
message (acknowledged "delivered") and alice one to nobody ("not delivered"); bob leaves (alice's
users list shrinks), then alice leaves. The sockets use the client's default transports (polling,
then the upgrade to WebSocket). With --har, the browser context records a HAR of it all
(Playwright's `record_har_path`: bodies embedded, WebSocket messages as `_webSocketMessages`).

Prints {"alice": {"users": [...], "messages": [...]}, "bob": {...}, "errors": [...]} and exits 0;
a step that does not show up within 15 s is reported in "errors".
"""
import argparse
import json

from playwright.sync_api import sync_playwright

TIMEOUT_MS = 15000


def texts(page, selector):
    return page.eval_on_selector_all(selector, 'items => items.map(i => i.textContent)')


def shows(page, selector, text):
    page.locator(selector, has_text=text).first.wait_for(timeout=TIMEOUT_MS)


def users_are(page, names):
    page.wait_for_function(
        '(names) => JSON.stringify([...document.querySelectorAll("#users li")].map(li => li.textContent)) === JSON.stringify(names)',
        arg=names, timeout=TIMEOUT_MS)


def open_user(context, url, name, errors):
    page = context.new_page()
    page.on('pageerror', lambda e: errors.append(f'{name}: page error: {e}'))
    # Each user loads the page from the server, as on a machine of their own: with the shared cache,
    # whether bob's page revalidates or not is the browser's choice, and a mock server answers each
    # recorded request once.
    cdp = context.new_cdp_session(page)
    cdp.send('Network.enable')
    cdp.send('Network.setCacheDisabled', {'cacheDisabled': True})
    page.goto(url + '/')
    # Waiting for the WebSocket to be reported makes the HAR hold it (Playwright adds an entry per socket).
    page.wait_for_function('() => typeof io === "function"', timeout=TIMEOUT_MS)
    page.fill('#username', name)
    page.fill('#room', 'lobby')
    page.click('#join button')
    shows(page, '#messages li', 'you joined lobby')
    return page


def leave(page):
    """Disconnects the page's socket and waits until its transport is closed."""
    page.evaluate('() => new Promise((resolve) => { socket.io.engine.once("close", () => resolve()); socket.disconnect(); })')


def scenario(context, url, errors):
    alice = open_user(context, url, 'alice', errors)
    users_are(alice, ['alice'])
    bob = open_user(context, url, 'bob', errors)
    for page in (alice, bob):
        users_are(page, ['alice', 'bob'])
    shows(alice, '#messages li', 'bob joined lobby')

    alice.fill('#text', 'hello lobby')
    alice.click('#send button')
    for page in (alice, bob):
        shows(page, '#messages li', 'alice: hello lobby')

    bob.fill('#to', 'alice')
    bob.fill('#private-text', 'hi alice')
    bob.click('#private button')
    shows(alice, '#messages li', '(private) bob: hi alice')
    shows(bob, '#messages li', '(to alice) delivered')
    alice.fill('#to', 'nobody')
    alice.fill('#private-text', 'anyone?')
    alice.click('#private button')
    shows(alice, '#messages li', '(to nobody) not delivered')

    leave(bob)
    users_are(alice, ['alice'])
    leave(alice)
    return {name: {'users': texts(page, '#users li'), 'messages': texts(page, '#messages li')}
            for name, page in (('alice', alice), ('bob', bob))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--url', required=True)
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    parser.add_argument('--har')
    args = parser.parse_args()
    errors = []
    result = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=['--no-sandbox'])
        options = {'record_har_path': args.har, 'record_har_content': 'embed'} if args.har else {}
        context = browser.new_context(**options)
        try:
            result = scenario(context, args.url, errors)
        except Exception as error:  # reported, so the test shows what the page was waiting for
            errors.append(f'{type(error).__name__}: {error}'.splitlines()[0])
        context.close()  # writes the HAR
        browser.close()
    print(json.dumps({**result, 'errors': errors}, sort_keys=True))


if __name__ == '__main__':
    main()
