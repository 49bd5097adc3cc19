# Shared by the example scripts: start the chat-acks sample app on a free port and read its address
# from its readiness line (`READY <port>`), through a FIFO (no polling, no sleeping).
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
siotape="${SIOTAPE_BIN:-siotape}"
tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

# start_app NAME: sets app_url.
start_app() {
    mkfifo "$tmp/app"
    "$root/tools/apps/run" "$1" --port 0 >"$tmp/app" &
    pids+=($!)
    exec 3<"$tmp/app"
    local ready port
    read -r ready port <&3 || { echo "the app $1 did not start" >&2; exit 2; }
    [[ $ready == READY ]] || { echo "the app $1 said '$ready $port'" >&2; exit 2; }
    app_url="http://127.0.0.1:$port"
}
