/// The sequence diagram and the plots (see `ViewScript`).
enum ViewScriptDiagram {
    static let diagram = #"""
        /// One or several sessions as a sequence diagram: a lane per client and one for the server,
        /// an arrow per packet (y follows time, never closer than ROW px), acks joined to their events.
        const diagramView = {
          ROW: 18,
          init() {
            const root = $("#view-diagram");
            this.info = el("span");
            const zoom = f => () => { this.zoom = f === 0 ? 0 : (this.zoom || this.fitZoom) * f; app.state.zoom = String(this.zoom); writeHash(); this.layout(); this.draw(); };
            root.append(el("div", { class: "toolbar" }, this.info,
              el("button", { type: "button", text: "zoom in", id: "zoom-in", onclick: zoom(2) }), el("button", { type: "button", text: "zoom out", onclick: zoom(0.5) }),
              el("button", { type: "button", text: "fit", onclick: () => { this.zoom = null; delete app.state.zoom; writeHash(); this.layout(); this.draw(); } }),
              el("button", { type: "button", text: "order only", title: "equal spacing, time as labels", onclick: zoom(0) }),
              this.legend = el("span", { class: "legend" })));
            this.head = svg("svg", { height: 34, id: "diagram-head" });
            this.scroller = el("div", { class: "scroller", id: "diagram-scroller" });
            this.svg = svg("svg", { id: "diagram" });
            this.scroller.append(this.svg);
            root.append(el("div", {}, this.head), this.scroller);
            this.scroller.addEventListener("scroll", () => this.schedule());
            this.scroller.addEventListener("wheel", e => { if (e.ctrlKey) { e.preventDefault(); zoom(e.deltaY < 0 ? 1.25 : 0.8)(); } }, { passive: false });
            window.addEventListener("resize", () => { if (this.items) { this.layout(); this.schedule(); } });
            this.zoom = app.state.zoom ? Number(app.state.zoom) : null;
          },
          schedule() { if (!this.pending) { this.pending = true; requestAnimationFrame(() => { this.pending = false; this.draw(); }); } },
          activate() {
            const load = sessions => api("packets", filterParams({ limit: 5000 })).then(r => {
              this.sessions = sessions; this.rows = r.rows; this.total = r.total; this.layout(); this.draw();
            }).catch(showError);
            if (app.state.session && app.state.session.length) return load(app.state.session);
            // No session chosen: the first one.
            return api("sessions", new URLSearchParams({ limit: 1 })).then(r => {
              if (!r.rows.length) { this.svg.replaceChildren(); this.info.textContent = "no sessions"; return; }
              app.state.session = [r.rows[0].sid]; writeHash(); syncForm(); load(app.state.session);
            });
          },
          layout() {
            const width = Math.max(600, this.scroller.clientWidth || 1000) - 20;
            const sids = [];
            for (const r of this.rows) if (r.line.sid && !sids.includes(r.line.sid)) sids.push(r.line.sid);
            for (const s of this.sessions) if (!sids.some(x => x.startsWith(s))) sids.push(s);
            const single = sids.length <= 1;
            this.lanes = new Map();
            const left = 110, usable = width - left - 40;
            if (single) {
              this.lanes.set(sids[0] || "", left + 40); this.serverX = left + 40 + Math.min(520, usable - 80);
            } else {
              this.serverX = left + 20;
              const gap = Math.max(180, (usable - 40) / sids.length);
              sids.forEach((s, i) => this.lanes.set(s, this.serverX + gap * (i + 1)));
            }
            this.width = Math.max(width, ...[...this.lanes.values()].map(x => x + 60), this.serverX + 60);
            const times = this.rows.map(r => r.rel_us);
            const t0 = times.length ? Math.min(...times) : 0, t1 = times.length ? Math.max(...times) : 1;
            this.fitZoom = (this.rows.length * this.ROW) / Math.max(1, t1 - t0);
            const z = this.zoom === null || this.zoom === undefined || isNaN(this.zoom) ? this.fitZoom : this.zoom;
            let y = 20;
            const bySeq = new Map();
            this.items = this.rows.map(r => {
              const ty = 20 + (r.rel_us - t0) * z;
              y = Math.max(ty, y + this.ROW);
              const item = { r, y };
              bySeq.set(r.seq, item);
              return item;
            });
            this.bySeq = bySeq;
            this.height = y + 60;
            this.svg.setAttribute("width", this.width); this.svg.setAttribute("height", this.height);
            this.svg.dataset.arrows = this.items.filter(i => i.r.line.k === "sio").length;
            this.svg.dataset.packets = this.total;
            this.info.textContent = sids.length + (sids.length === 1 ? " session · " : " sessions · ") + this.rows.length + " records" +
              (this.total > this.rows.length ? " (first " + this.rows.length + " of " + this.total + ": narrow with from/to)" : "");
            // Lane heads, outside the scrolling area.
            this.head.setAttribute("width", this.width);
            this.head.replaceChildren(svg("text", { x: this.serverX, y: 20, "text-anchor": "middle", class: "lane-head" }, "server"));
            for (const [sid, x] of this.lanes) this.head.append(svg("text", { x, y: 20, "text-anchor": "middle", class: "lane-head" }, "client " + sid.slice(0, 12)));
            const nsps = [...new Set(this.rows.filter(r => r.line.k === "sio").map(r => r.line.nsp || "/"))];
            this.legend.replaceChildren(...nsps.map(n => { const s = el("span", { class: "swatch" }); s.style.background = nspColor(n); return el("span", {}, s, n); }),
              el("span", { text: "— websocket   - - polling   [n att] binary attachments" }));
          },
          laneOf(sid) { if (this.lanes.has(sid)) return this.lanes.get(sid); for (const [s, x] of this.lanes) if (sid && sid.startsWith(s)) return x; return [...this.lanes.values()][0]; },
          draw() {
            if (!this.items) return;
            const top = this.scroller.scrollTop - 300, bottom = this.scroller.scrollTop + (this.scroller.clientHeight || 800) + 300;
            const g = [];
            g.push(svg("defs", {}));
            const defs = g[0];
            const marker = (id, color) => { const m = svg("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }); m.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: color })); defs.append(m); };
            const markers = new Set();
            for (const x of [this.serverX, ...this.lanes.values()]) g.push(svg("line", { class: "lane-line", x1: x, x2: x, y1: 0, y2: this.height }));
            let drawn = 0;
            for (const it of this.items) {
              const { r, y } = it;
              const l = r.line;
              const ackLinkVisible = r.pair >= 0 && this.bySeq.has(r.pair) && l.type && l.type.includes("ACK") && this.bySeq.get(r.pair).y < bottom && y > top;
              if ((y < top || y > bottom) && !ackLinkVisible) continue;
              const cx = this.laneOf(l.sid);
              g.push(svg("text", { x: 8, y: y + 4, class: "tick" }, fmtTime(r.rel_us)));
              if (l.k === "sio" || l.k === "eio") {
                const color = l.k === "eio" ? "#8c959f" : nspColor(l.nsp);
                const id = "m" + color.slice(1);
                if (!markers.has(id)) { marker(id, color); markers.add(id); }
                const [x1, x2] = l.dir === "c2s" ? [cx, this.serverX] : [this.serverX, cx];
                const a = svg("g", { class: "arrow" + (l.k === "eio" ? " engine" : "") + (app.detailSeq === r.seq ? " selected" : ""), "data-seq": r.seq, "data-pair": r.pair,
                  "data-type": l.type, "data-dir": l.dir, "data-sid": l.sid || "" });
                const line = svg("line", { x1, x2, y1: y, y2: y, stroke: color, "marker-end": "url(#" + id + ")" });
                if (l.tr === "polling") line.setAttribute("stroke-dasharray", "6 3");
                a.append(line);
                const label = (l.k === "eio" ? l.type : l.type.replace("BINARY_", "B·")) + (eventOf(r) ? " " + eventOf(r) : "") + (l.id !== undefined ? " #" + l.id : "") + (l.att && l.att.length ? " [" + l.att.length + " att]" : "") + (l.nsp && l.nsp !== "/" ? " " + l.nsp : "");
                a.append(svg("text", { x: (x1 + x2) / 2, y: y - 3, "text-anchor": "middle", fill: color }, label));
                a.append(svg("title", {}, preview(l)));
                a.addEventListener("click", () => { showPacket(r.seq, r); this.draw(); });
                g.push(a);
                drawn++;
                if (ackLinkVisible) {
                  // The ack joined to its event on the side the event came from, with the latency.
                  const ev = this.bySeq.get(r.pair);
                  const side = l.dir === "s2c" ? Math.min(cx, this.serverX) - 8 : Math.max(cx, this.serverX) + 8;
                  const out = l.dir === "s2c" ? -1 : 1;
                  const bend = side + out * Math.min(60, 14 + (y - ev.y) / 6);
                  g.push(svg("path", { class: "ack-link", "data-event": r.pair, "data-ack": r.seq, d: `M${side},${ev.y} C${bend},${ev.y} ${bend},${y} ${side},${y}` }));
                  g.push(svg("text", { class: "latency", x: bend + out * 4, y: (ev.y + y) / 2 + 3, "text-anchor": out < 0 ? "end" : "start" }, l.ack_us !== undefined ? fmtDur(l.ack_us) : ""));
                }
              } else {
                // Session life: open, the upgrade, the WebSocket, close, undecodable bytes, HTTP errors.
                const xs = [this.serverX, cx];
                const x1 = Math.min(...xs) - 30, x2 = Math.max(...xs) + 30;
                const text = l.k === "open" ? "open (" + l.tr + ", EIO " + l.eio + ")" : l.k === "upgrade" ? "upgrade → websocket" : l.k === "ws" ? "websocket opened" :
                  l.k === "close" ? "close: " + l.cause : l.k === "raw" ? "undecodable (" + l.layer + "): " + l.reason : typeOf(l) + " " + preview(l);
                const band = svg("g", { class: "marker-" + l.k, "data-seq": r.seq });
                band.append(svg("rect", { class: "band", x: x1, y: y - 7, width: x2 - x1, height: 12, rx: 3, fill: isError(l) ? "#ffebe9" : undefined }));
                band.append(svg("text", { class: "band-text", x: (x1 + x2) / 2, y: y + 2, "text-anchor": "middle" }, text));
                band.addEventListener("click", () => showPacket(r.seq, r));
                g.push(band);
              }
            }
            this.svg.replaceChildren(...g);
            this.svg.dataset.drawn = drawn;
          },
        };

        """#

    static let plots = #"""
        /// Event rate over time and the ack latency distribution per event.
        const plotView = {
          init() {
            this.root = el("div", { class: "plots" });
            $("#view-plots").append(this.root);
          },
          activate() { api("plots", filterParams()).then(p => this.render(p)).catch(showError); },
          render(p) {
            const parts = [el("h2", { text: "Events per " + fmtDur(p.bucket_us) + " (EVENT and BINARY_EVENT)" })];
            if (!p.rate.length) parts.push(el("div", { class: "empty", text: "no events match" }));
            else parts.push(this.rateChart(p));
            parts.push(el("h2", { text: "Ack latency per event" }));
            if (!p.latency.length) parts.push(el("div", { class: "empty", text: "no paired acks match" }));
            const multiples = el("div", { class: "small-multiples" });
            for (const h of p.latency) multiples.append(this.latencyChart(h));
            parts.push(multiples);
            this.root.replaceChildren(...parts);
          },
          rateChart(p) {
            const W = 900, H = 260, L = 44, B = 28, n = p.rate[0].counts.length;
            // Whole-number gridlines: the axis tops at four steps.
            const step = Math.max(1, Math.ceil(Math.max(1, ...p.rate.flatMap(s => s.counts)) / 4)), max = step * 4;
            const s = svg("svg", { width: W, height: H + 10, id: "rate-chart" });
            for (let i = 0; i <= 4; i++) {
              const y = H - B - (H - B - 10) * i / 4;
              s.append(svg("line", { class: "grid-line", x1: L, x2: W - 10, y1: y, y2: y }), svg("text", { class: "tick", x: L - 6, y: y + 3, "text-anchor": "end" }, String(step * i)));
            }
            for (let i = 0; i <= 5; i++) {
              const x = L + (W - L - 10) * i / 5;
              s.append(svg("text", { class: "tick", x, y: H - B + 16, "text-anchor": i === 5 ? "end" : i === 0 ? "start" : "middle" }, fmtTime(p.start_us + p.bucket_us * n * i / 5)));
            }
            const legend = el("div", { class: "legend" });
            for (const series of p.rate) {
              const color = series.event === null ? "#8c959f" : colorOf(series.event);
              const pts = series.counts.map((c, i) => `${(L + (W - L - 10) * (i + 0.5) / n).toFixed(1)},${(H - B - (H - B - 10) * c / max).toFixed(1)}`).join(" ");
              s.append(svg("polyline", { points: pts, fill: "none", stroke: color, "stroke-width": 1.8, "data-event": series.event ?? "(other)" }));
              const sw = el("span", { class: "swatch" }); sw.style.background = color;
              legend.append(el("span", {}, sw, series.event ?? "other events"));
            }
            return el("div", {}, s, legend);
          },
          latencyChart(h) {
            const W = 280, H = 150, B = 30, bins = h.bins;
            let lo = bins.findIndex(c => c > 0), hi = bins.length - 1 - [...bins].reverse().findIndex(c => c > 0);
            lo = Math.max(0, lo - 1); hi = Math.min(bins.length - 1, hi + 1);
            // At least two decades, so that a single busy bin reads as a distribution, not a block.
            while (hi - lo < 8) { if (lo > 0) lo--; if (hi < bins.length - 1) hi++; }
            const max = Math.max(...bins), n = hi - lo + 1, bw = (W - 20) / n;
            const s = svg("svg", { width: W, height: H, class: "latency-chart", "data-event": h.event });
            bins.slice(lo, hi + 1).forEach((c, i) => {
              const bh = (H - B - 24) * c / max;
              const r = svg("rect", { x: 10 + i * bw + 1, y: H - B - bh, width: Math.max(1, bw - 2), height: bh, fill: colorOf(h.event) });
              r.append(svg("title", {}, c + " acks from " + fmtDur(Math.round(10 ** ((lo + i) / 4))) + " to " + fmtDur(Math.round(10 ** ((lo + i + 1) / 4)))));
              s.append(r);
            });
            for (let i = lo; i <= hi + 1; i++) if (i % 4 === 0) s.append(svg("text", { class: "tick", x: Math.max(18, 10 + (i - lo) * bw), y: H - B + 12, "text-anchor": "middle" }, fmtDur(Math.round(10 ** (i / 4)))));
            s.append(svg("text", { x: 10, y: 14, "font-weight": 700 }, h.event + " · " + h.count + " acks"));
            s.append(svg("text", { class: "tick", x: 10, y: H - 4 }, "p50 " + fmtDur(h.p50_us) + " · p90 " + fmtDur(h.p90_us) + " · p99 " + fmtDur(h.p99_us) + " · max " + fmtDur(h.max_us)));
            return s;
          },
        };

        """#
}
