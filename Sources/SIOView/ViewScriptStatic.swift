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
          const page = (rows, params) => {
            const offset = Number(params.get("offset") || 0), limit = Number(params.get("limit") || 200);
            return { total: rows.length, offset, next: 0, rows: rows.slice(offset, offset + limit) };
          };
          return (route, params) => {
            switch (route) {
              case "meta": return data.meta;
              case "stats": return data.stats;
              case "plots": return data.plots;
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
