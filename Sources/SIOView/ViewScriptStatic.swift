/// The static report's stand-in for the server (see `StaticReport`): the same API answered
/// from the data embedded in the file, with the same filter rules as `inspect`.
enum ViewScriptStatic {
    static let backend = #"""
        function staticBackend(data) {
          const ENGINE = new Set(["conn", "conn_close", "http", "ws", "poll", "eio", "ws_close"]);
          const glob = p => new RegExp("^" + p.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$");
          const bound = text => {
            const m = /^(\d+(?:\.\d+)?)(ms|s|m|us|µs)?$/.exec(text);
            if (m) { const v = Number(m[1]); return Math.round(v * ({ ms: 1e3, s: 1e6, m: 6e7, us: 1, "µs": 1 }[m[2] || "s"])); }
            const wall = Date.parse(text);
            return isNaN(wall) ? null : wall * 1000 - data.meta.start_wall_us;
          };
          const payloadText = l => [l.data !== undefined ? JSON.stringify(l.data) : "", l.data_text, l.data_b64, l.text, l.b64, l.att ? JSON.stringify(l.att) : ""].filter(x => x).join("\n");
          function matches(r, q) {
            const l = r.line;
            if (!q.engine && ENGINE.has(l.k)) return false;
            if (q.since !== null && r.rel_us < q.since) return false;
            if (q.until !== null && r.rel_us > q.until) return false;
            if (q.dir && l.dir !== q.dir) return false;
            if (q.sessions.length && !(l.sid && q.sessions.some(s => l.sid.startsWith(s)))) return false;
            const selects = q.nsps.length || q.events.length || q.types.length || q.text;
            if (selects && !["sio", "eio", "raw"].includes(l.k)) return false;
            if (q.nsps.length && !(l.k === "sio" && q.nsps.includes(l.nsp || "/"))) return false;
            if (q.events.length) { const e = eventOf(r); if (!e || !q.events.some(g => g.test(e))) return false; }
            if (q.types.length && !(l.type && q.types.includes(String(l.type).toUpperCase()))) return false;
            if (q.text && !payloadText(l).includes(q.text)) return false;
            return true;
          }
          function query(params) {
            const dir = params.get("dir");
            return {
              engine: params.get("engine") === "1", since: params.get("since") ? bound(params.get("since")) : null,
              until: params.get("until") ? bound(params.get("until")) : null, dir: dir === "client" ? "c2s" : dir === "server" ? "s2c" : null,
              sessions: params.getAll("session"), nsps: params.getAll("namespace"), events: params.getAll("event").map(glob),
              types: params.getAll("type").map(t => t.toUpperCase()), text: params.get("text") || "",
            };
          }
          // The plots of the rows the filters select, as ViewAPI.plots computes them (percentiles
          // here are exact; the server's are within 0.4%).
          function plots(rows) {
            const buckets = 80, perEvent = new Map(), latencies = new Map();
            let first = Infinity, last = -Infinity;
            for (const r of rows) {
              const l = r.line, e = eventOf(r);
              if (l.k !== "sio" || !e) continue;
              if (l.type === "EVENT" || l.type === "BINARY_EVENT") {
                first = Math.min(first, r.rel_us); last = Math.max(last, r.rel_us);
                perEvent.set(e, (perEvent.get(e) || 0) + 1);
              } else if (l.ack_us !== undefined && l.ack_us >= 0) {
                if (!latencies.has(e)) latencies.set(e, []);
                latencies.get(e).push(l.ack_us);
              }
            }
            const latency = [...latencies].sort((a, b) => b[1].length - a[1].length).map(([event, values]) => {
              values.sort((a, b) => a - b);
              const at = p => values[Math.max(1, Math.ceil(p * values.length)) - 1];
              const bins = new Array(36).fill(0);
              for (const v of values) bins[v > 1 ? Math.min(35, Math.floor(Math.log10(v) * 4)) : 0]++;
              return { event, count: values.length, p50_us: at(0.5), p90_us: at(0.9), p99_us: at(0.99), max_us: values[values.length - 1], bins };
            });
            if (first > last) return { start_us: 0, bucket_us: 1, rate: [], latency };
            const bucket = Math.floor((last - first) / buckets) + 1;
            const top = [...perEvent].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([e]) => e);
            const counts = new Map(top.map(e => [e, new Array(buckets).fill(0)]));
            const other = new Array(buckets).fill(0);
            for (const r of rows) {
              const l = r.line, e = eventOf(r);
              if (l.k !== "sio" || !e || !(l.type === "EVENT" || l.type === "BINARY_EVENT")) continue;
              const b = Math.min(buckets - 1, Math.floor((r.rel_us - first) / bucket));
              (counts.get(e) || other)[b]++;
            }
            const rate = top.map(event => ({ event, counts: counts.get(event) }));
            if (other.some(n => n > 0)) rate.push({ event: null, counts: other });
            return { start_us: first, bucket_us: bucket, rate, latency };
          }
          const unfiltered = q => q.since === null && q.until === null && !q.dir && !q.sessions.length &&
            !q.nsps.length && !q.events.length && !q.types.length && !q.text;
          const page = (rows, params) => {
            const offset = Number(params.get("offset") || 0), limit = Number(params.get("limit") || 200);
            return { total: rows.length, offset, next: 0, rows: rows.slice(offset, offset + limit) };
          };
          return (route, params) => {
            switch (route) {
              case "meta": return data.meta;
              case "stats": return data.stats;
              case "plots": {
                // Unfiltered: the plots siotape drew of the whole report (exact even past the rows
                // it holds); filtered: drawn here from the rows held, as the server draws them.
                const q = query(params);
                return unfiltered(q) ? data.plots : plots(data.packets.filter(r => matches(r, q)));
              }
              case "live": return { rows: [], next: 0, skipped: 0 };
              case "packet": {
                const seq = Number(params.get("seq"));
                const packet = data.packets.find(r => r.seq === seq);
                if (!packet) throw new Error("no packet " + seq);
                return { packet, wire: data.wire[seq] ?? null };
              }
              case "sessions": {
                let rows = data.sessions;
                const s = (params.get("q") || "").toLowerCase();
                if (s) rows = rows.filter(r => r.sid.toLowerCase().includes(s) || (r.peer || "").includes(s));
                const prefixes = params.getAll("session");
                if (prefixes.length) rows = rows.filter(r => prefixes.some(p => r.sid.startsWith(p)));
                const by = { packets: r => r.c2s + r.s2c, duration: r => r.duration_us, p99: r => r.p99_us, errors: r => r.error_count }[params.get("sort")];
                if (by) rows = [...rows].sort((a, b) => by(b) - by(a));
                return page(rows, params);
              }
              case "packets": {
                const q = query(params);
                return page(data.packets.filter(r => matches(r, q)), params);
              }
            }
            throw new Error("unknown route " + route);
          };
        }

        """#
}
