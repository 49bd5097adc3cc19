# Sourced by tools/apps/run and tools/apps/scenario: sets PY to the sio5 venv's python,
# creating the venv on first use. Paths are relative to the repository root.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
PY="${SIOTAPE_PY5:-.venv/sio5/bin/python}"
case "$PY" in /*) ;; *) PY="$ROOT/$PY" ;; esac
if [ ! -x "$PY" ]; then
    if [ -n "${SIOTAPE_PY5:-}" ]; then
        echo "tools/apps: SIOTAPE_PY5=$SIOTAPE_PY5 is not an executable python" >&2
        exit 2
    fi
    echo "tools/apps: creating $ROOT/.venv/sio5 ..." >&2
    (cd "$ROOT" && python3 -m venv .venv/sio5 \
        && .venv/sio5/bin/pip install -q -r tools/requirements-sio5.txt -r tools/apps/requirements.txt) >&2 \
        || { echo "tools/apps: could not create the venv .venv/sio5" >&2; exit 2; }
fi
APPS="$ROOT/tools/apps"
list_apps() { echo "signalling org-notify chat-acks job-stream ns-chat"; }
check_app() {
    if [ -z "${1:-}" ] || [ ! -f "$APPS/$1/app.py" ]; then
        echo "unknown app '${1:-}'; one of: $(list_apps)" >&2
        exit 2
    fi
}
