"""The official socket.io browser client (4.8.1) in headless Chromium, driven by Playwright: a page
opens two ``io({forceNew: true})`` connections at once to ``siotape replay serve`` of a recording
made by ``twin_clients.py record`` (the joiner first), and lets them diverge at once: the echoer
emits ``echo``, the joiner ``join``s a room, each waiting for its ack.

    browser_twins.py --siotape BIN --recording REC --socketio-js FILE [--chromium /usr/bin/chromium]
                     [--transports polling,websocket,default] [--repetitions N]

The browser is launched once; the page and the client script come from a static server of this
script (no CDN), and connect across origins to a fresh ``replay serve --on-unmatched fail`` per run.
Prints {"runs": [{"transport", "observed", "status", "stderr"}...]} and exits 0.
"""
import argparse
import http.server
import json
import threading

from playwright.sync_api import sync_playwright

from replay_serve import ReplayServe

TRANSPORTS = {'polling': ['polling'], 'websocket': ['websocket'], 'default': ['polling', 'websocket']}
TIMEOUT_MS = 10000

PAGE = """<!doctype html>
<meta charset="utf-8">
<title>twins</title>
<script src="/socket.io.min.js"></script>
<script>
async function runTwins(url, transports) {
  const make = () => io(url, {forceNew: true, transports, reconnection: false});
  const welcome = (socket) => new Promise((resolve, reject) => {
    socket.once('welcome', resolve);
    socket.once('connect_error', (error) => reject(new Error('connect_error: ' + error.message)));
    setTimeout(() => reject(new Error('no welcome')), %(timeout)d);
  });
  const ack = (socket, ...args) => new Promise((resolve, reject) => {
    socket.timeout(%(timeout)d).emit(...args, (error, ...answer) => error ? reject(error) : resolve(answer));
  });
  const echoer = make();
  const joiner = make();
  try {
    const welcomes = await Promise.all([welcome(echoer), welcome(joiner)]);
    const answers = await Promise.all([ack(echoer, 'echo', 'hello', {n: 1}), ack(joiner, 'join', {room: 'room1'})]);
    return {echoer: {welcome: welcomes[0], answer: answers[0]}, joiner: {welcome: welcomes[1], answer: answers[1]}};
  } catch (error) {
    return {error: String(error)};
  } finally {
    echoer.close();
    joiner.close();
  }
}
</script>
""" % {'timeout': TIMEOUT_MS}


def static_server(script):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body, kind = (script, 'text/javascript') if self.path == '/socket.io.min.js' else (PAGE.encode(), 'text/html')
            self.send_response(200)
            self.send_header('Content-Type', kind)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--siotape', required=True)
    parser.add_argument('--recording', required=True)
    parser.add_argument('--socketio-js', required=True)
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    parser.add_argument('--transports', default='polling,websocket,default')
    parser.add_argument('--repetitions', type=int, default=1)
    args = parser.parse_args()
    with open(args.socketio_js, 'rb') as file:
        server = static_server(file.read())
    runs = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True, args=['--no-sandbox'])
        page = browser.new_page()
        page.goto(f'http://127.0.0.1:{server.server_address[1]}/')
        for transport in args.transports.split(','):
            for _ in range(args.repetitions):
                serve = ReplayServe(args.siotape, args.recording, ['--on-unmatched', 'fail'])
                try:
                    observed = page.evaluate('([url, transports]) => runTwins(url, transports)',
                                             [serve.url, TRANSPORTS[transport]])
                except Exception as error:  # reported per run
                    observed = {'error': f'{type(error).__name__}: {error}'}
                status, stderr = serve.finish(TIMEOUT_MS / 1000)
                runs.append({'transport': transport, 'observed': observed, 'status': status, 'stderr': stderr[-3000:]})
        browser.close()
    server.shutdown()
    print(json.dumps({'runs': runs}, sort_keys=True))


if __name__ == '__main__':
    main()
