/// The page's files, compiled into the binary as string literals: plain HTML, CSS, SVG and
/// JavaScript written for siotape, no library and no build step. Served from memory, so the
/// view works offline and the binary stays one file (no resource bundle to find at run time);
/// the same literals are inlined into the static report.
package enum ViewAsset: Sendable {
    case index, script, style, icon

    package init?(path: String) {
        switch path {
        case "/", "/index.html": self = .index
        case "/app.js": self = .script
        case "/app.css": self = .style
        case "/favicon.svg": self = .icon
        default: return nil
        }
    }

    package var contentType: String {
        switch self {
        case .index: return "text/html; charset=utf-8"
        case .script: return "text/javascript; charset=utf-8"
        case .style: return "text/css; charset=utf-8"
        case .icon: return "image/svg+xml"
        }
    }

    package var body: String {
        switch self {
        case .index: return Self.page(head: Self.linkedHead, tail: "<script src=\"app.js\"></script>")
        case .script: return ViewScript.all
        case .style: return ViewStyle.css
        case .icon: return Self.iconSVG
        }
    }

    static let linkedHead = """
        <link rel="icon" href="favicon.svg" type="image/svg+xml">
        <link rel="stylesheet" href="app.css">
        """

    /// The page around its head additions (stylesheet) and tail (script, data).
    static func page(head: String, tail: String) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>siotape</title>
        \(head)
        </head>
        <body>
        <header id="top">
          <span class="brand">siotape</span>
          <span id="mode" class="badge"></span>
          <span id="summary"></span>
          <span id="unredacted" class="warn" hidden>this recording is not redacted: it may hold credentials</span>
          <nav id="tabs">
            <a data-view="sessions" href="#view=sessions">Sessions</a>
            <a data-view="packets" href="#view=packets">Packets</a>
            <a data-view="diagram" href="#view=diagram">Diagram</a>
            <a data-view="plots" href="#view=plots">Plots</a>
          </nav>
        </header>
        <form id="filters" autocomplete="off">
          <label>event <input name="event" placeholder="chat:* (glob)" size="12"></label>
          <label>namespace <input name="namespace" list="namespaces" placeholder="/" size="8"></label>
          <datalist id="namespaces"></datalist>
          <label>direction <select name="dir"><option value="">both</option><option value="client">client → server</option><option value="server">server → client</option></select></label>
          <label>session <input name="session" placeholder="sid prefix" size="10"></label>
          <label>type <select name="type"><option value="">any</option><option>EVENT</option><option>ACK</option><option>CONNECT</option><option>DISCONNECT</option><option>CONNECT_ERROR</option><option>BINARY_EVENT</option><option>BINARY_ACK</option></select></label>
          <label>text <input name="text" placeholder="in payloads" size="10"></label>
          <label>from <input name="since" placeholder="0s" size="6"></label>
          <label>to <input name="until" placeholder="end" size="6"></label>
          <label title="Engine.IO and connection records too"><input type="checkbox" name="engine" value="1"> engine</label>
          <button type="button" id="clear">clear</button>
          <span id="filter-error" class="warn"></span>
        </form>
        <main>
          <section id="view-sessions" class="view"></section>
          <section id="view-packets" class="view"></section>
          <section id="view-diagram" class="view"></section>
          <section id="view-plots" class="view"></section>
          <aside id="detail" hidden></aside>
        </main>
        \(tail)
        </body>
        </html>

        """
    }

    static let iconSVG = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f6feb"/>\
        <path d="M3 5h10M13 5l-3-2M3 11h10M3 11l3 2" stroke="#fff" stroke-width="1.6" fill="none"/></svg>
        """
}
