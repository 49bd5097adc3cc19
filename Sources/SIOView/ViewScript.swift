/// The page's JavaScript (see `ViewAsset`): plain ES2020, no library. Everything from the
/// recording is put in the page with `textContent` or SVG attributes, never as HTML.
enum ViewScript {
    static var all: String { core + sessions + packets + ViewScriptDiagram.diagram + ViewScriptDiagram.plots + ViewScriptStatic.backend + start }

    /// State in the URL, the API client, small helpers.
    static let core = #"""
        "use strict";
        const $ = (s, el = document) => el.querySelector(s);
        const el = (tag, attrs = {}, ...children) => {
          const e = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs)) {
            if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
            else if (k === "text") e.textContent = v; else if (v !== undefined && v !== null) e.setAttribute(k, v);
          }
          for (const c of children) if (c !== null && c !== undefined) e.append(c);
          return e;
        };
        const SVGNS = "http://www.w3.org/2000/svg";
        const svg = (tag, attrs = {}, text) => {
          const e = document.createElementNS(SVGNS, tag);
          for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, v);
          if (text !== undefined) e.textContent = text;
          return e;
        };
        const FILTERS = ["event", "namespace", "dir", "session", "type", "text", "since", "until", "engine"];
        const app = { state: { view: "sessions" }, meta: null, backend: null, detailSeq: null, arrivals: [] };
        window.siotape = app;

        function readHash() {
          const p = new URLSearchParams(location.hash.slice(1));
          const s = { view: p.get("view") || "sessions" };
          for (const k of FILTERS) s[k] = p.getAll(k).filter(v => v !== "");
          for (const k of ["seq", "sort", "zoom"]) if (p.get(k)) s[k] = p.get(k);
          return s;
        }
        function writeHash() {
          const p = new URLSearchParams();
          p.set("view", app.state.view);
          for (const k of FILTERS) for (const v of app.state[k] || []) p.append(k, v);
          for (const k of ["seq", "sort", "zoom"]) if (app.state[k]) p.set(k, app.state[k]);
          const hash = "#" + p.toString();
          if (location.hash !== hash) history.replaceState(null, "", hash);
        }
        function filterParams(extra = {}) {
          const p = new URLSearchParams();
          for (const k of FILTERS) for (const v of app.state[k] || []) p.append(k, v);
          for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== null) p.set(k, v);
          return p;
        }
        /// The server's API, or the report's own data (`staticBackend`).
        function api(route, params = new URLSearchParams(), signal = undefined) {
          if (app.backend) return Promise.resolve(app.backend(route, params));
          const token = new URLSearchParams(location.search).get("token");
          if (token) params.set("token", token);
          return fetch("api/" + route + "?" + params.toString(), { signal }).then(r => {
            if (!r.ok) return r.text().then(t => { throw new Error(t.trim() || r.statusText); });
            return r.json();
          });
        }
        function fmtTime(us) {
          if (us === null || us === undefined) return "";
          const s = us / 1e6;
          return s < 60 ? s.toFixed(3) + "s" : Math.floor(s / 60) + "m" + (s % 60).toFixed(1).padStart(4, "0") + "s";
        }
        function fmtDur(us) {
          if (!us && us !== 0) return "";
          if (us < 1000) return us + "µs";
          if (us < 1e6) return (us / 1000).toFixed(1) + "ms";
          return (us / 1e6).toFixed(2) + "s";
        }
        const PALETTE = ["#0969da", "#8250df", "#1a7f37", "#bc4c00", "#bf3989", "#0a7ea4", "#9a6700", "#57606a", "#cf222e", "#6639ba"];
        function colorOf(name) {
          let h = 0;
          for (const c of String(name)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
          return PALETTE[h % PALETTE.length];
        }
        function nspColor(nsp) { return nsp === "/" || !nsp ? "#0969da" : colorOf(nsp); }
        function preview(line) {
          if (line.data !== undefined) { const t = JSON.stringify(line.data); return t.length > 300 ? t.slice(0, 300) + "…" : t; }
          if (line.data_text !== undefined) return line.data_text;
          if (line.text !== undefined) return line.text;
          if (line.b64 !== undefined || line.data_b64 !== undefined) return "(binary)";
          if (line.k === "http") return line.method + " " + line.path + " → " + (line.status ?? "no response");
          if (line.k === "close" || line.k === "conn_close") return line.cause || "";
          if (line.k === "raw") return line.layer + ": " + line.reason;
          if (line.k === "note") return line.level + ": " + line.msg;
          if (line.k === "conn") return line.peer;
          if (line.k === "ws_close") return (line.code ?? "") + " " + (line.reason || "");
          return "";
        }
        function typeOf(line) { return line.k === "sio" ? line.type : line.k === "eio" ? line.type : line.k; }
        function eventOf(row) { return row.line.event ?? row.ack_event ?? ""; }
        function isError(line) {
          return line.type === "CONNECT_ERROR" || line.k === "raw" || (line.k === "http" && !(line.status < 400)) || (line.k === "note" && line.level !== "info");
        }
        /// Virtual scrolling: only the rows in view (and a few more) are in the DOM.
        class VirtualList {
          constructor(scroller, rowHeight, render, afterDraw) {
            this.scroller = scroller; this.rowHeight = rowHeight; this.render = render; this.afterDraw = afterDraw; this.count = 0;
            this.spacer = el("div", { class: "spacer" }); scroller.append(this.spacer);
            scroller.addEventListener("scroll", () => this.schedule());
            window.addEventListener("resize", () => this.schedule());
          }
          // Browsers cap an element's height (~33M px in Chromium): past 10M px a scroll pixel stands
          // for more than a pixel of rows, and the rows in view are placed from the scroll position.
          setCount(n) {
            this.count = n;
            this.unit = Math.min(this.rowHeight, 1e7 / Math.max(1, n));
            this.spacer.style.height = (n * this.unit) + "px";
            this.schedule();
          }
          schedule() { if (!this.pending) { this.pending = true; requestAnimationFrame(() => { this.pending = false; this.draw(); }); } }
          visibleRange() {
            const top = this.scroller.scrollTop, h = this.scroller.clientHeight || 600;
            const visible = Math.ceil(h / this.rowHeight);
            if (this.unit === this.rowHeight) {
              const at = Math.min(this.count, Math.floor(top / this.rowHeight));
              return [Math.max(0, at - 10), Math.min(this.count, at + visible + 10), at];
            }
            // Scaled: the scroll fraction picks the first row, so that the end is reachable.
            const maxTop = Math.max(1, this.count * this.unit - h);
            const at = Math.round(Math.min(1, top / maxTop) * Math.max(0, this.count - visible));
            return [at, Math.min(this.count, at + visible), at];
          }
          draw() {
            const [first, last, at] = this.visibleRange();
            const top = this.unit === this.rowHeight ? at * this.rowHeight : this.scroller.scrollTop;
            this.spacer.replaceChildren();
            for (let i = first; i < last; i++) {
              const row = this.render(i);
              if (row) { row.style.top = (top + (i - at) * this.rowHeight) + "px"; this.spacer.append(row); }
            }
            if (this.afterDraw) this.afterDraw();
          }
        }
        /// Rows fetched from the server a page at a time, as the list scrolls to them.
        class PagedRows {
          constructor(route, paramsFn, onChange) { this.route = route; this.paramsFn = paramsFn; this.onChange = onChange; this.reset(); }
          reset() { this.pages = new Map(); this.total = 0; this.generation = (this.generation || 0) + 1; }
          static get size() { return 200; }
          get(i) {
            const page = Math.floor(i / PagedRows.size);
            const rows = this.pages.get(page);
            if (rows === undefined) { this.load(page); return null; }
            return rows === null ? null : rows[i - page * PagedRows.size];
          }
          load(page) {
            if (this.pages.has(page)) return Promise.resolve();
            this.pages.set(page, null);
            const generation = this.generation;
            return api(this.route, this.paramsFn({ offset: page * PagedRows.size, limit: PagedRows.size })).then(r => {
              if (generation !== this.generation) return;
              this.pages.set(page, r.rows); this.total = r.total; this.onChange(r);
            }).catch(showError);
          }
        }
        function showError(e) { $("#filter-error").textContent = String(e.message || e); }

        """#

    /// The session list.
    static let sessions = #"""
        const sessionView = {
          init() {
            const root = $("#view-sessions");
            this.count = el("span");
            this.compare = el("button", { type: "button", text: "compare selected on one time axis", disabled: "",
              onclick: () => { app.state.session = [...this.selected]; setView("diagram"); } });
            this.search = el("input", { placeholder: "search sid or address", size: 24, oninput: () => this.reload() });
            root.append(el("div", { class: "toolbar" }, this.count, this.search, this.compare, el("span", { text: "click a session for its diagram; tick several to compare" })));
            const columns = [["", 28], ["sid", 190, "start"], ["client", 140], ["transports", 170], ["namespaces", 130], ["start", 80, "start"],
              ["duration", 80, "duration"], ["c2s", 55, "packets"], ["s2c", 55, "packets"], ["ack p50", 70, "p99"], ["ack p99", 70, "p99"], ["close", 170], ["errors", 220, "errors"]];
            this.table = el("table", { class: "grid", id: "session-table" });
            const colgroup = el("colgroup"), head = el("tr");
            for (const [name, width, sort] of columns) {
              const col = el("col"); col.style.width = width + "px"; colgroup.append(col);
              head.append(el("th", { text: name, title: sort ? "sort by " + sort : "", onclick: () => { if (sort) { app.state.sort = sort; writeHash(); this.reload(); } } }));
            }
            this.body = el("tbody");
            this.table.append(colgroup, el("thead", {}, head), this.body);
            this.scroller = el("div", { class: "scroller" }, this.table);
            root.append(this.scroller);
            this.selected = new Set();
            this.rows = new PagedRows("sessions", extra => {
              // The session filter (sid prefixes) narrows the list too; the others are about packets.
              const p = new URLSearchParams({ sort: app.state.sort || "start", q: this.search.value, ...extra });
              for (const s of app.state.session || []) p.append("session", s);
              return p;
            }, () => { this.count.textContent = this.rows.total + " sessions"; this.draw(); });
            this.scroller.addEventListener("scroll", () => this.schedule());
          },
          reload() { this.rows.reset(); this.rows.load(0); },
          schedule() { if (!this.pending) { this.pending = true; requestAnimationFrame(() => { this.pending = false; this.draw(); }); } },
          draw() {
            // A table keeps its layout: spacer rows above and below the rows in view.
            const rowH = 25, total = this.rows.total;
            const top = this.scroller.scrollTop, h = this.scroller.clientHeight || 600;
            const first = Math.max(0, Math.floor(top / rowH) - 10), last = Math.min(total, Math.ceil((top + h) / rowH) + 10);
            const frag = [];
            const pad = n => { const tr = el("tr", { class: "pad" }); tr.style.height = (n * rowH) + "px"; return tr; };
            if (first > 0) frag.push(pad(first));
            for (let i = first; i < last; i++) {
              const s = this.rows.get(i);
              frag.push(s ? this.row(s) : el("tr", {}, el("td", { colspan: 13, text: "…" })));
            }
            if (last < total) frag.push(pad(total - last));
            this.body.replaceChildren(...frag);
            this.table.dataset.total = total;
          },
          row(s) {
            const box = el("input", { type: "checkbox", onclick: e => {
              e.stopPropagation();
              if (e.target.checked) this.selected.add(s.sid); else this.selected.delete(s.sid);
              if (this.selected.size > 1) this.compare.removeAttribute("disabled"); else this.compare.setAttribute("disabled", "");
            } });
            if (this.selected.has(s.sid)) box.checked = true;
            const transports = el("td");
            s.transports.forEach(([t, name], i) => {
              if (i > 0) transports.append(" → ");
              transports.append(el("span", { class: "tr-" + name, text: name, title: "at " + fmtTime(t) }));
            });
            if (!s.transports.length) transports.textContent = s.transport;
            const nsps = el("td");
            s.namespaces.forEach((n, i) => { if (i) nsps.append(" "); const sp = el("span", { text: n }); sp.style.color = nspColor(n); nsps.append(sp); });
            const tr = el("tr", { class: "session-row", "data-sid": s.sid, "data-transport": s.transport, "data-c2s": s.c2s, "data-s2c": s.s2c,
              "data-errors": s.error_count, "data-closed": s.closed, onclick: () => { app.state.session = [s.sid]; setView("diagram"); } },
              el("td", {}, box), el("td", { class: "mono", text: s.sid, title: s.sid }), el("td", { class: "mono", text: s.peer || "" }), transports, nsps,
              el("td", { class: "num", text: fmtTime(s.first_us) }), el("td", { class: "num", text: fmtDur(s.duration_us) + (s.closed ? "" : " …") }),
              el("td", { class: "num c2s", text: s.c2s }), el("td", { class: "num s2c", text: s.s2c }),
              el("td", { class: "num", text: s.acks ? fmtDur(s.p50_us) : "" }), el("td", { class: "num", text: s.acks ? fmtDur(s.p99_us) : "" }),
              el("td", { text: s.close || (s.closed ? "" : "open"), title: s.close || "" }),
              el("td", { class: s.error_count ? "warn" : "", text: s.errors.join("; "), title: s.errors.join("\n") }));
            return tr;
          },
          activate() { this.reload(); },
        };

        """#

    /// The packet list and a packet's details.
    static let packets = #"""
        const packetView = {
          init() {
            const root = $("#view-packets");
            this.count = el("span");
            this.follow = true;
            this.unseen = 0;
            this.followButton = el("button", { type: "button", id: "follow", onclick: () => this.setFollow(!this.follow) });
            this.unseenText = el("span", { id: "unseen" });
            this.droppedText = el("span", { id: "dropped", class: "warn" });
            root.append(el("div", { class: "toolbar" }, this.count, this.followButton, this.unseenText, this.droppedText));
            this.scroller = el("div", { class: "scroller", id: "packet-list" });
            root.append(this.scroller);
            this.list = new VirtualList(this.scroller, 22, i => this.render(i), () => this.drawn());
            this.rows = new PagedRows("packets", extra => filterParams(extra), r => {
              this.count.textContent = r.total + " packets";
              this.list.setCount(r.total);
            });
            this.resetLive();
            this.setFollow(true);
          },
          setFollow(on) {
            this.follow = on;
            this.followButton.textContent = on ? "❚❚ pause" : "▶ follow";
            this.followButton.hidden = app.meta.mode !== "live";
            if (on) {
              // What came while paused is not fetched: the list marks the gap and goes on from the tail.
              if (this.unseen && this.live) this.live.push({ gap: this.unseen, paused: true });
              this.unseen = 0; this.unseenText.textContent = ""; this.flush();
            }
          },
          activate() {
            if (app.meta.mode === "live") { this.flush(); return; }
            this.rows.reset(); this.rows.load(0);
          },
          // Live: following, the poll brings the tail of what is new (at most liveTail() rows) and
          // how many came before it (marked as a gap in the list and counted); paused, it brings
          // only how many came (counted until follow resumes).
          liveTail() { return Math.max(100, 2 * Math.ceil((this.scroller.clientHeight || 1000) / 22)); },
          resetLive() { this.live = []; this.undrawn = []; this.received = 0; this.skipped = 0; this.unseen = 0; this.unseenText.textContent = ""; },
          // When the list was first drawn with each row received (`drawn` in app.arrivals: the
          // end-to-end test measures when a packet appears in the page, not when its poll answered).
          drawn() {
            if (!this.undrawn.length) return;
            const now = Date.now();
            for (const a of this.undrawn) a.drawn = now;
            this.undrawn = [];
          },
          liveRows(rows, skipped, first, arrivals) {
            if (!this.follow) {
              this.unseen += rows.length + skipped;
              this.unseenText.textContent = this.unseen + " new packets not shown (paused)";
              return;
            }
            if (skipped && first) this.live.push({ gap: skipped, earlier: true });
            else if (skipped) {
              this.skipped += skipped;
              this.unseenText.textContent = this.skipped + " packets not shown (the page fell behind)";
              const last = this.live[this.live.length - 1];
              if (last && last.gap && !last.paused && !last.earlier) last.gap += skipped; else this.live.push({ gap: skipped });
            }
            this.received += rows.length;
            for (const row of rows) this.live.push(row);
            this.undrawn.push(...arrivals);
            if (this.undrawn.length > 50000) this.undrawn.splice(0, this.undrawn.length - 50000);
            if (this.live.length > 50000) this.live.splice(0, this.live.length - 50000);
            if (app.state.view === "packets") this.flush();
          },
          // At most once per frame, however many batches came.
          flush() {
            if (app.meta.mode !== "live" || this.flushing) return;
            this.flushing = true;
            requestAnimationFrame(() => {
              this.flushing = false;
              this.count.textContent = this.received + " packets";
              this.list.setCount(this.live.length);
              if (this.follow) this.scroller.scrollTop = this.scroller.scrollHeight;
            });
          },
          rowAt(i) { return app.meta.mode === "live" ? this.live[i] : this.rows.get(i); },
          render(i) {
            const r = this.rowAt(i);
            if (!r) return el("div", { class: "packet-row", text: "…" });
            if (r.gap) return el("div", { class: "packet-row gap", text: "… " + r.gap + (r.earlier ? " earlier packet(s)" : " packet(s) not shown (" + (r.paused ? "paused" : "the page fell behind") + ")") });
            const l = r.line;
            const dir = l.dir === "c2s" ? "→" : l.dir === "s2c" ? "←" : "·";
            const ack = l.id !== undefined ? (l.type && l.type.includes("ACK") ? "ack " + l.id + (l.ack_us !== undefined ? " " + fmtDur(l.ack_us) : "") : "id " + l.id) : "";
            const nsp = el("span", { class: "nsp", text: l.nsp || (l.k === "sio" ? "/" : "") });
            nsp.style.color = nspColor(l.nsp);
            const row = el("div", { class: "packet-row" + (isError(l) ? " err" : "") + (app.detailSeq === r.seq ? " selected" : ""), "data-seq": r.seq,
              onclick: () => showPacket(r.seq, r) },
              el("span", { class: "t", text: fmtTime(r.rel_us) }), el("span", { class: "sid", text: (l.sid || "").slice(0, 10) }),
              el("span", { class: "dir " + (l.dir || ""), text: dir }), el("span", { class: "tr", text: l.tr === "websocket" ? "ws" : l.tr === "polling" ? "poll" : "" }),
              nsp, el("span", { class: "type", text: typeOf(l) }), el("span", { class: "event", text: eventOf(r) }),
              el("span", { class: "ack", text: ack }), el("span", { class: "args", text: (l.att && l.att.length ? "[" + l.att.length + " att] " : "") + preview(l) }));
            return row;
          },
        };

        /// A packet's payload as a collapsible tree, its attachments as hex and text, its wire form and line.
        function showPacket(seq, row) {
          app.detailSeq = seq; app.state.seq = String(seq); writeHash();
          const aside = $("#detail");
          aside.hidden = false;
          const render = (r, wire) => {
            const l = r.line;
            const parts = [el("button", { class: "close", type: "button", text: "✕", onclick: () => { aside.hidden = true; app.detailSeq = null; delete app.state.seq; writeHash(); } }),
              el("h3", { text: typeOf(l) + (eventOf(r) ? " " + eventOf(r) : "") + " · " + fmtTime(r.rel_us) })];
            if (r.pair >= 0) parts.push(el("div", {}, el("a", { href: "#", text: l.type && l.type.includes("ACK") ? "← the event it answers" : "→ its ack", onclick: e => { e.preventDefault(); showPacket(r.pair); } })));
            parts.push(el("h3", { text: "payload" }));
            const data = l.data !== undefined ? l.data : l.data_text !== undefined ? l.data_text : l.text;
            parts.push(el("div", { class: "tree", id: "payload-tree" }, jsonTree(data, "data", 0)));
            const atts = l.att || (l.b64 ? [l.b64] : l.data_b64 ? [l.data_b64] : []);
            atts.forEach((b64, i) => { parts.push(el("h3", { text: "attachment " + i }), hexView(b64)); });
            if (wire) parts.push(el("h3", { text: "wire (Engine.IO message)" }), el("pre", { id: "wire", text: wire }));
            if (atts.length && wire) parts.push(el("div", { class: "muted", text: "followed by " + atts.length + " binary frame(s)" }));
            parts.push(el("h3", { text: "recorded line" }), el("pre", { text: JSON.stringify(l) }));
            aside.replaceChildren(...parts);
          };
          const params = new URLSearchParams({ seq });
          api("packet", params).then(p => render(p.packet, p.wire)).catch(e => { if (row) render(row, null); else showError(e); });
        }
        function jsonTree(v, key, depth) {
          const label = key === null ? [] : [el("span", { class: "k", text: key }), ": "];
          if (v !== null && typeof v === "object") {
            const entries = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
            const d = el("details");
            if (depth < 2) d.open = true;
            d.append(el("summary", {}, ...label, Array.isArray(v) ? "[" + v.length + "]" : "{" + entries.length + "}"));
            for (const [k, x] of entries) d.append(jsonTree(x, k, depth + 1));
            return d;
          }
          const cls = typeof v === "string" ? "s" : typeof v === "number" ? "n" : "b";
          return el("div", { class: "leaf" }, ...label, el("span", { class: cls, text: JSON.stringify(v) }));
        }
        function hexView(b64) {
          let bytes;
          try { bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)); } catch (e) { return el("pre", { text: b64 }); }
          const grid = el("div", { class: "hex mono" });
          for (let o = 0; o < Math.min(bytes.length, 4096); o += 16) {
            const chunk = bytes.slice(o, o + 16);
            grid.append(el("span", { text: o.toString(16).padStart(6, "0") }),
              el("span", { text: [...chunk].map(b => b.toString(16).padStart(2, "0")).join(" ") }),
              el("span", { text: [...chunk].map(b => b >= 32 && b < 127 ? String.fromCharCode(b) : ".").join("") }));
          }
          const text = new TextDecoder("utf-8", { fatal: false }).decode(bytes.slice(0, 4096));
          return el("div", {}, el("div", { text: bytes.length + " bytes" }), grid, el("pre", { class: "att-text", text: text }));
        }

        """#

    /// Tabs, filters, live polling, start.
    static let start = #"""
        const views = { sessions: sessionView, packets: packetView, diagram: diagramView, plots: plotView };
        function setView(name) {
          app.state.view = views[name] ? name : "sessions";
          writeHash(); syncForm();
          for (const [k] of Object.entries(views)) $("#view-" + k).classList.toggle("active", k === app.state.view);
          for (const a of document.querySelectorAll("#tabs a")) a.classList.toggle("active", a.dataset.view === app.state.view);
          views[app.state.view].activate();
        }
        function syncForm() {
          const form = $("#filters");
          for (const k of FILTERS) {
            const input = form.elements[k];
            if (!input) continue;
            if (input.type === "checkbox") input.checked = (app.state[k] || []).includes("1");
            else input.value = (app.state[k] || []).join(",");
          }
        }
        function readForm() {
          const form = $("#filters");
          for (const k of FILTERS) {
            const input = form.elements[k];
            if (input.type === "checkbox") app.state[k] = input.checked ? ["1"] : [];
            else app.state[k] = input.value.split(",").map(v => v.trim()).filter(v => v);
          }
          $("#filter-error").textContent = "";
          writeHash();
          if (app.meta.mode === "live") { packetView.resetLive(); livePoll.restart(); }
          views[app.state.view].activate();
        }
        const livePoll = {
          // The server holds a poll until there is something new; the page asks at most every
          // `interval` ms, so a busy proxy costs the page four answers (and list redraws) a second,
          // not one per line: what costs a following page is redrawing the list, not reading rows.
          // When packets come faster than the page shows them (an answer skipped some), nobody can
          // read the list as it scrolls: the page then asks every `floodInterval` ms, which halves
          // the CPU a following page takes from the machine the proxy and its peers run on.
          next: 0, running: false, epoch: 0, interval: 250, floodInterval: 500, answered: false,
          restart() {
            this.epoch++; this.next = 0; this.answered = false;
            // A poll the server holds (up to 10 s while nothing comes) is given up, so that a new
            // filter shows its packets at once; the loop asks again when the abort lands.
            if (this.held) this.held.abort();
            if (!this.running) this.loop();
          },
          loop() {
            this.running = true;
            const epoch = this.epoch, started = Date.now();
            const limit = packetView.follow ? packetView.liveTail() : 0;
            const held = this.held = new AbortController();
            api("live", filterParams({ after: this.next, limit }), held.signal).then(r => {
              const at = Date.now();
              let interval = this.interval;
              if (epoch === this.epoch) {
                if (r.skipped && this.answered) interval = this.floodInterval;
                // Rows skipped in the first answer of an epoch were there before the page (or the
                // filter) came; later, they came faster than the page asked (also after a first
                // answer at the 10 s timeout with nothing in it, whose `next` is still 0).
                const first = !this.answered;
                this.answered = true;
                // When each row arrived (the end-to-end tests compare it with the recording); bounded.
                const arrivals = r.rows.map(row => ({ seq: row.seq, t: row.line.t, k: row.line.k, sid: row.line.sid, type: row.line.type, at }));
                app.arrivals.push(...arrivals);
                if (app.arrivals.length > 100000) app.arrivals.splice(0, app.arrivals.length - 100000);
                this.next = r.next;
                packetView.liveRows(r.rows, r.skipped, first, arrivals);
              }
              this.tick();
              setTimeout(() => this.loop(), Math.max(0, interval - (Date.now() - started)));
            }).catch(e => {
              if (held.signal.aborted) { this.loop(); return; }
              showError(e); setTimeout(() => this.loop(), 1000);
            });
          },
          // Less urgent parts of the page refresh at most once a second.
          tick() {
            const now = Date.now();
            if (this.last && now - this.last < 1000) return;
            this.last = now;
            api("meta").then(m => { app.meta = m; showSummary(); });
            if (app.state.view === "sessions") sessionView.reload();
            if (app.state.view === "diagram") diagramView.activate();
          },
        };
        function showSummary() {
          const m = app.meta;
          $("#mode").textContent = m.mode;
          $("#mode").classList.toggle("live", m.mode === "live");
          const files = m.files.map(f => f.split("/").pop()).join(", ");
          $("#summary").textContent = (files ? files + " · " : "") + m.sessions + " sessions · " + m.records + " records" +
            (m.forgotten ? " · " + m.forgotten + " oldest forgotten" : "");
          const report = window.SIOTAPE_REPORT;
          if (report && report.matched > report.packets.length)
            $("#summary").textContent += " · this report holds the first " + report.packets.length + " of them (the packet list, diagrams and filtered plots see only those)";
          const dropped = $("#dropped");
          if (dropped) dropped.textContent = m.dropped ? m.dropped + " records dropped: the view could not keep up with the proxy" : "";
          $("#unredacted").hidden = m.redacted !== false;
          const list = $("#namespaces");
          list.replaceChildren(...m.namespaces.map(n => el("option", { value: n })));
        }
        function main() {
          if (window.SIOTAPE_REPORT) app.backend = staticBackend(window.SIOTAPE_REPORT);
          app.state = readHash();
          api("meta").then(meta => {
            app.meta = meta;
            showSummary();
            for (const v of Object.values(views)) v.init();
            syncForm();
            let timer;
            $("#filters").addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(readForm, 250); });
            $("#filters").addEventListener("submit", e => { e.preventDefault(); readForm(); });
            $("#clear").addEventListener("click", () => { for (const k of FILTERS) app.state[k] = []; syncForm(); readForm(); });
            for (const a of document.querySelectorAll("#tabs a")) a.addEventListener("click", e => { e.preventDefault(); setView(a.dataset.view); });
            window.addEventListener("hashchange", () => { const s = readHash(); if (JSON.stringify(s) !== JSON.stringify(app.state)) { app.state = s; setView(s.view); } });
            setView(app.state.view);
            if (app.state.seq) showPacket(Number(app.state.seq));
            if (meta.mode === "live") livePoll.loop();
            document.body.dataset.ready = "1";
          }).catch(showError);
        }
        main();
        """#
}
