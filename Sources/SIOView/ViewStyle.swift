/// The page's stylesheet (see `ViewAsset`).
enum ViewStyle {
    static let css = #"""
        :root { --bg:#fff; --fg:#1c2128; --muted:#656d76; --line:#d0d7de; --head:#f6f8fa; --accent:#1f6feb;
          --c2s:#0969da; --s2c:#8250df; --err:#cf222e; --ok:#1a7f37; --sel:#ddf4ff; }
        * { box-sizing: border-box; }
        html, body { margin:0; height:100%; }
        body { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; color:var(--fg); background:var(--bg);
          display:flex; flex-direction:column; }
        code, .mono, td.mono, .packet-row, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size:12px; }
        header#top { display:flex; align-items:center; gap:12px; padding:6px 12px; border-bottom:1px solid var(--line); background:var(--head); }
        .brand { font-weight:700; color:var(--accent); }
        .badge { border:1px solid var(--line); border-radius:10px; padding:0 8px; color:var(--muted); }
        .badge.live { color:#fff; background:var(--err); border-color:var(--err); }
        #summary { color:var(--muted); }
        .warn { color:var(--err); }
        nav#tabs { margin-left:auto; display:flex; gap:2px; }
        nav#tabs a { padding:4px 12px; border-radius:6px; color:var(--fg); text-decoration:none; }
        nav#tabs a.active { background:var(--accent); color:#fff; }
        form#filters { display:flex; flex-wrap:wrap; gap:10px; align-items:center; padding:6px 12px; border-bottom:1px solid var(--line); }
        form#filters label { color:var(--muted); }
        form#filters input, form#filters select { font:inherit; padding:1px 4px; border:1px solid var(--line); border-radius:4px; }
        main { flex:1; display:flex; min-height:0; }
        .view { flex:1; min-width:0; display:none; flex-direction:column; }
        .view.active { display:flex; }
        .toolbar { display:flex; gap:10px; align-items:center; padding:6px 12px; border-bottom:1px solid var(--line); color:var(--muted); }
        .toolbar button { font:inherit; }
        .scroller { flex:1; overflow:auto; position:relative; }
        .spacer { position:relative; }
        table.grid { border-collapse:collapse; width:100%; table-layout:fixed; }
        table.grid th { position:sticky; top:0; background:var(--head); text-align:left; font-weight:600; z-index:1;
          border-bottom:1px solid var(--line); padding:3px 6px; cursor:pointer; white-space:nowrap; }
        table.grid td { padding:2px 6px; border-bottom:1px solid #eef1f4; white-space:nowrap; overflow:hidden; text-overflow:ellipsis; height:24px; }
        table.grid tr:hover td { background:#f3f6f9; }
        table.grid tr.selected td { background:var(--sel); }
        .num { text-align:right; font-variant-numeric: tabular-nums; }
        .tr-polling { color:#9a6700; } .tr-websocket { color:var(--ok); }
        .packet-row { position:absolute; left:0; right:0; height:22px; display:flex; gap:8px; align-items:center; padding:0 12px;
          white-space:nowrap; cursor:pointer; border-bottom:1px solid #f0f2f4; }
        .packet-row:hover { background:#f3f6f9; }
        .packet-row.selected { background:var(--sel); }
        .packet-row.gap { color:var(--muted); font-style:italic; }
        .packet-row span { overflow:hidden; text-overflow:ellipsis; flex:none; }
        .packet-row .t { width:80px; text-align:right; color:var(--muted); }
        .packet-row .sid { width:84px; color:var(--muted); }
        .packet-row .dir { width:14px; font-weight:700; }
        .packet-row .dir.c2s, .c2s { color:var(--c2s); } .packet-row .dir.s2c, .s2c { color:var(--s2c); }
        .packet-row .tr { width:30px; color:var(--muted); }
        .packet-row .nsp { width:70px; }
        .packet-row .type { width:110px; }
        .packet-row .event { width:150px; font-weight:600; }
        .packet-row .ack { width:110px; color:var(--muted); }
        .packet-row .args { flex:1; color:#3d444d; }
        .packet-row.err .type { color:var(--err); font-weight:700; }
        aside#detail { width:38%; max-width:620px; border-left:1px solid var(--line); overflow:auto; padding:8px 12px; }
        aside#detail h3 { margin:10px 0 4px; font-size:13px; }
        aside#detail pre { white-space:pre-wrap; word-break:break-all; background:var(--head); padding:6px; border-radius:4px; margin:0; }
        .close { float:right; }
        .tree { font-family: ui-monospace, Menlo, monospace; font-size:12px; }
        .tree details { margin-left:14px; } .tree summary { cursor:pointer; margin-left:-14px; }
        .tree .leaf { margin-left:14px; }
        .tree .k { color:#953800; } .tree .s { color:#0a3069; } .tree .n { color:#0550ae; } .tree .b { color:#8250df; }
        .hex { display:grid; grid-template-columns: 60px auto auto; gap:0 12px; }
        svg text { font: 11px system-ui, sans-serif; }
        svg .lane-line { stroke:#afb8c1; stroke-dasharray:4 3; }
        svg .lane-head { font-weight:700; }
        svg .arrow line { stroke-width:1.6; }
        svg .arrow:hover line { stroke-width:3; }
        svg .arrow.selected line { stroke-width:3.5; }
        svg .arrow { cursor:pointer; }
        svg .ack-link { fill:none; stroke:#8c959f; stroke-dasharray:2 2; }
        svg .latency { fill:var(--muted); font-size:10px; }
        svg .band { fill:#fff8c5; }
        svg .band-text { fill:#7d4e00; font-size:10px; }
        svg .engine line { stroke:#afb8c1 !important; stroke-dasharray:3 2; }
        svg .tick { fill:var(--muted); font-size:10px; }
        svg .grid-line { stroke:#eef1f4; }
        .legend { display:flex; gap:10px; flex-wrap:wrap; }
        .swatch { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:4px; vertical-align:middle; }
        .plots { padding:12px; overflow:auto; }
        .plots h2 { font-size:14px; margin:8px 0; }
        .small-multiples { display:flex; flex-wrap:wrap; gap:16px; }
        .empty { padding:24px; color:var(--muted); }
        """#
}
