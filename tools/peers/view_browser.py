#!/usr/bin/env python3
"""Drives siotape's browser view in Debian's chromium with Playwright, for Tests/EndToEndTests/ViewTests.

    view_browser.py --chromium /usr/bin/chromium --artifacts DIR TASKS.json

Runs every task of TASKS.json (a list) in one browser and prints one JSON object per task on stdout,
in order. What the page shows is reported; the Swift tests compare it with `siotape inspect`.

Task kinds:
  {"kind": "view", "name": N, "url": U, "session": SID, "filter": "event=x", "compare": [SID...]}
      the session list; the diagram of SID (arrows, ack links); the sessions of "compare" side by
      side; the packet list under the filter, before and after a reload, and the plots' data with
      and without the filter; screenshots
      N-sessions.png, N-diagram.png, N-compare.png, N-plots.png
  {"kind": "many", "url": U, "last": SID, "prefix": P}
      a recording of many sessions: the count the list reports, the rows in the DOM at the top and
      at the end of the list (scrolled to the bottom), the last rows' sids and whether the last is in
      view; the list under the URL filter session=P (count, rows); the diagram of SID; screenshots
      many-sessions.png, many-sessions-end.png, many-filtered.png, many-diagram.png
  {"kind": "http", "url": U, "host": H}              a GET with this Host header: status and body
  {"kind": "crawl", "url": U}                         every page and API answer, as one text
  {"kind": "live", "url": U, "event": E}              prints {"ready": true}, waits for a line on
      stdin (the scenario is over), then until every session is closed and the page has received
      all their Socket.IO packets (at most 60 s); reports when each arrived (Date.now() in the page
      when its poll answered: "at"; when the list was first drawn with it: "drawn") and the packets
      the page did not fetch (the list's gap counter); then types E into the event filter and
      reports the packet list (its count, the rows' events)
"""
import argparse
import http.client
import json
import sys
import urllib.parse

from playwright.sync_api import sync_playwright


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def open_page(browser, url, view=None):
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url + (("#" + view) if view else ""))
    page.wait_for_selector("body[data-ready='1']", timeout=30000)
    return page, errors


def session_rows(page):
    # Predicates are functions, never expression strings: Playwright evaluates a string with eval,
    # which the page's Content-Security-Policy (rightly) refuses.
    page.wait_for_function("() => document.querySelector('#session-table') && document.querySelector('#session-table').dataset.total !== undefined "
                           "&& document.querySelectorAll('tr.session-row').length >= Math.min(40, Number(document.querySelector('#session-table').dataset.total))")
    return page.eval_on_selector_all("tr.session-row", "rows => rows.map(r => ({sid: r.dataset.sid, transport: r.dataset.transport, "
                                     "c2s: Number(r.dataset.c2s), s2c: Number(r.dataset.s2c), errors: Number(r.dataset.errors)}))")


def diagram(page):
    page.wait_for_function("() => document.querySelector('svg#diagram') && document.querySelector('svg#diagram').dataset.drawn !== undefined")
    return page.evaluate("""() => {
        const s = document.querySelector('svg#diagram');
        return {
          laid_out: Number(s.dataset.arrows), drawn: Number(s.dataset.drawn),
          arrows: [...s.querySelectorAll('g.arrow')].map(g => ({seq: Number(g.dataset.seq), pair: Number(g.dataset.pair), type: g.dataset.type, dir: g.dataset.dir, sid: g.dataset.sid})),
          links: [...s.querySelectorAll('path.ack-link')].map(p => ({event: Number(p.dataset.event), ack: Number(p.dataset.ack)})),
          markers: [...s.querySelectorAll('g[class^=marker-]')].map(g => g.getAttribute('class')),
        };
    }""")


def packet_list(page):
    page.wait_for_function("() => document.querySelectorAll('#packet-list .packet-row[data-seq]').length > 0 || /^0 packets/.test(document.querySelector('#view-packets .toolbar span').textContent)")
    return page.evaluate("""() => ({
        count: document.querySelector('#view-packets .toolbar span').textContent,
        seqs: [...document.querySelectorAll('#packet-list .packet-row[data-seq]')].map(r => Number(r.dataset.seq)),
        form: Object.fromEntries([...new FormData(document.querySelector('#filters'))]),
    })""")


def run_view(browser, task, artifacts):
    name = task["name"]
    page, errors = open_page(browser, task["url"], "view=sessions")
    result = {"sessions": session_rows(page)}
    if artifacts:
        page.screenshot(path=f"{artifacts}/{name}-sessions.png")
    page.evaluate("v => { location.hash = v }", "view=diagram&session=" + urllib.parse.quote(task["session"]))
    page.wait_for_function("sid => document.querySelector('svg#diagram') && [...document.querySelectorAll('svg#diagram g.arrow')].every(g => g.dataset.sid === sid) "
                           "&& document.querySelectorAll('svg#diagram g.arrow').length > 0", arg=task["session"])
    result["diagram"] = diagram(page)
    if artifacts:
        page.screenshot(path=f"{artifacts}/{name}-diagram.png")
    if task.get("compare"):
        # Several sessions side by side on one time axis.
        page.evaluate("v => { location.hash = v }", "view=diagram&" + "&".join("session=" + urllib.parse.quote(s) for s in task["compare"]))
        page.wait_for_function("n => new Set([...document.querySelectorAll('svg#diagram g.arrow')].map(g => g.dataset.sid)).size >= n",
                               arg=len(task["compare"]))
        result["compare"] = sorted(set(a["sid"] for a in diagram(page)["arrows"]))
        if artifacts:
            page.screenshot(path=f"{artifacts}/{name}-compare.png")
    if artifacts:
        page.evaluate("v => { location.hash = v }", "view=plots")
        page.wait_for_selector("#view-plots.active .plots h2")
        page.screenshot(path=f"{artifacts}/{name}-plots.png")
    page.close()
    # A filtered packet list, from the URL alone, then after a reload.
    if "filter" in task:
        page, more = open_page(browser, task["url"], "view=packets&" + task["filter"])
        errors += more
        first = packet_list(page)
        page.reload()
        page.wait_for_selector("body[data-ready='1']")
        second = packet_list(page)
        result["filtered"] = [first, second]
        # The plots under the filter, and without it (the report draws the filtered ones itself).
        result["plots"] = page.evaluate("() => Promise.all([api('plots', filterParams()), api('plots')])")
        page.close()
    result["errors"] = errors
    return result


def session_list_state(page):
    return page.evaluate("""() => {
        const scroller = document.querySelector('#view-sessions .scroller'), box = scroller.getBoundingClientRect();
        const rows = [...document.querySelectorAll('tr.session-row')];
        const last = rows[rows.length - 1], r = last ? last.getBoundingClientRect() : null;
        return {
          count: document.querySelector('#view-sessions .toolbar span').textContent,
          total: Number(document.querySelector('#session-table').dataset.total),
          dom_rows: document.querySelectorAll('#session-table tr').length,
          rows: rows.length, first_sid: rows.length ? rows[0].dataset.sid : null, last_sid: last ? last.dataset.sid : null,
          sids: rows.map(r => r.dataset.sid),
          last_in_view: r !== null && r.top >= box.top - 1 && r.bottom <= box.bottom + 1,
        };
    }""")


def run_many(browser, task, artifacts):
    page, errors = open_page(browser, task["url"], "view=sessions")
    session_rows(page)
    result = {"top": session_list_state(page)}
    if artifacts:
        page.screenshot(path=f"{artifacts}/many-sessions.png")
    # Scrolled to the end, as a user drags the scrollbar down: the last page of rows is fetched and drawn.
    page.evaluate("() => { const s = document.querySelector('#view-sessions .scroller'); s.scrollTop = s.scrollHeight; }")
    page.wait_for_function("sid => [...document.querySelectorAll('tr.session-row')].some(r => r.dataset.sid === sid)", arg=task["last"])
    result["end"] = session_list_state(page)
    if artifacts:
        page.screenshot(path=f"{artifacts}/many-sessions-end.png")
    # The last session's diagram.
    page.evaluate("v => { location.hash = v }", "view=diagram&session=" + urllib.parse.quote(task["last"]))
    page.wait_for_function("sid => document.querySelector('svg#diagram') && document.querySelectorAll('svg#diagram g.arrow').length > 0 "
                           "&& [...document.querySelectorAll('svg#diagram g.arrow')].every(g => g.dataset.sid === sid)", arg=task["last"])
    result["diagram"] = diagram(page)
    if artifacts:
        page.screenshot(path=f"{artifacts}/many-diagram.png")
    page.close()
    # A session filter given in the URL (a shared link).
    page, more = open_page(browser, task["url"], "view=sessions&session=" + urllib.parse.quote(task["prefix"]))
    errors += more
    session_rows(page)
    result["filtered"] = session_list_state(page)
    if artifacts:
        page.screenshot(path=f"{artifacts}/many-filtered.png")
    page.close()
    result["errors"] = errors
    return result


def run_http(task):
    url = urllib.parse.urlsplit(task["url"])
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.putrequest("GET", (url.path or "/") + (("?" + url.query) if url.query else ""), skip_host=True)
    if task.get("host") is not None:
        connection.putheader("Host", task["host"])
    if task.get("cookie"):
        connection.putheader("Cookie", task["cookie"])
    connection.endheaders()
    response = connection.getresponse()
    body = response.read().decode("utf-8", "replace")
    return {"status": response.status, "body": body[:2000], "set_cookie": response.getheader("Set-Cookie")}


def run_crawl(browser, task):
    base = task["url"]
    texts = []
    page, errors = open_page(browser, base, "view=sessions")
    session_rows(page)
    texts.append(page.content())
    for view in ["packets", "diagram", "plots"]:
        page.evaluate("v => { location.hash = v }", "view=" + view)
        page.wait_for_selector(f"#view-{view}.active")
        texts.append(page.content())
    # Every API answer, every packet's details.
    for route in ["meta", "stats", "sessions?limit=5000", "plots", "packets?engine=1&limit=5000"]:
        texts.append(page.evaluate("u => fetch(u).then(r => r.text())", base.rstrip("/") + "/api/" + route))
    packets = json.loads(texts[-1])["rows"]
    for row in packets:
        texts.append(page.evaluate("u => fetch(u).then(r => r.text())", base.rstrip("/") + "/api/packet?seq=%d" % row["seq"]))
    # A packet's details as the page shows them (called directly: a click could land while the
    # virtual list redraws its rows).
    page.evaluate("v => { location.hash = v }", "view=packets")
    page.wait_for_selector("#packet-list .packet-row[data-seq]")
    page.evaluate("s => showPacket(s)", next(r["seq"] for r in packets if r["line"]["k"] == "sio"))
    page.wait_for_selector("#detail:not([hidden]) #payload-tree")
    texts.append(page.content())
    page.close()
    return {"text": "\n".join(texts), "packets": len(packets), "errors": errors}


def run_live(browser, task):
    page, errors = open_page(browser, task["url"], "view=packets")
    emit({"ready": True})
    # The test says when the scenario is over and how many sessions it opened ("DONE N"); then the
    # page must list that many, all closed, and have received and drawn every Socket.IO packet of
    # them, or have skipped some (the list's gap counter: the test then fails, saying so).
    sessions = int(sys.stdin.readline().split()[1])
    # The predicate is synchronous: Playwright's wait_for_function takes an async predicate's promise
    # for a truthy answer and stops waiting at its first call. The session list is fetched in the
    # background, one request at a time, and the predicate reads the last answer.
    page.wait_for_function("""(sessions) => {
        const w = window.siotape;
        if (packetView.skipped > 0 || packetView.unseen > 0) return true;
        if (!w.checking) w.checking = fetch('api/sessions?limit=5000').then(r => r.json())
            .then(r => { w.listed = r; w.checking = null; }, () => { w.checking = null; });
        const r = w.listed;
        if (!r || r.total < sessions || !r.rows.every(s => s.closed)) return false;
        const n = r.rows.reduce((a, s) => a + s.c2s + s.s2c, 0);
        return w.arrivals.filter(a => a.k === 'sio' && a.drawn !== undefined).length >= n;
    }""", arg=sessions, polling=100, timeout=60000)
    arrivals = page.evaluate("() => window.siotape.arrivals")
    meta = page.evaluate("() => window.siotape.meta")
    state = page.evaluate("""() => ({
        shown: document.querySelectorAll('#packet-list .packet-row[data-seq]').length,
        skipped: packetView.skipped, unseen: packetView.unseen,
        gaps: document.querySelectorAll('#packet-list .packet-row.gap').length,
        unseen_text: document.querySelector('#unseen').textContent,
    })""")
    if task.get("screenshot"):
        page.screenshot(path=task["screenshot"])
    # A filter typed into the form once the proxy is quiet: the list starts again with the matching
    # packets (the poll the server was holding is given up).
    filtered = None
    if task.get("event"):
        page.fill("#filters input[name=event]", task["event"])
        page.wait_for_function("() => location.hash.includes('event=')")
        page.wait_for_function("""() => packetView.received > 0 && packetView.live.length === packetView.received
            && document.querySelectorAll('#packet-list .packet-row[data-seq]').length === packetView.received""")
        filtered = page.evaluate("""() => ({
            count: document.querySelector('#view-packets .toolbar span').textContent,
            events: [...document.querySelectorAll('#packet-list .packet-row[data-seq] .event')].map(e => e.textContent),
        })""")
    page.close()
    return {"arrivals": arrivals, "start_wall_us": meta["start_wall_us"], "shown_rows": state["shown"], "skipped": state["skipped"],
            "unseen": state["unseen"], "gap_rows": state["gaps"], "unseen_text": state["unseen_text"], "filtered": filtered,

            "errors": errors}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--chromium", required=True)
    parser.add_argument("--artifacts", default="")
    parser.add_argument("tasks")
    args = parser.parse_args()
    with open(args.tasks) as f:
        tasks = json.load(f)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox", "--disable-dev-shm-usage"])
        for task in tasks:
            kind = task["kind"]
            try:
                if kind == "view":
                    emit(run_view(browser, task, args.artifacts))
                elif kind == "many":
                    emit(run_many(browser, task, args.artifacts))
                elif kind == "http":
                    emit(run_http(task))
                elif kind == "crawl":
                    emit(run_crawl(browser, task))
                elif kind == "live":
                    emit(run_live(browser, task))
                else:
                    emit({"failure": "unknown task " + kind})
            except Exception as e:  # reported to the test, which fails with it
                emit({"failure": "%s: %s" % (type(e).__name__, e)})
        browser.close()


if __name__ == "__main__":
    main()
