#!/usr/bin/env bash
# `chargen-tui serve` in a real browser: Debian's Chromium headless opens the page, types, waits for
# the ghost text, saves a screenshot, then Tab, Ctrl+S (the document on disk is checked) and Ctrl+G
# (the browser's key for Ctrl+T); it prints the screen at each step, read from the page's websocket
# (benchmarks/browser_check.py says how). Exits non-zero on any failure.
#
#     bash benchmarks/browser_check.sh [RUN_DIR] [SCREENSHOT]    # default: the shipped model, /tmp/chargen-browser.png
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
run=${1:-}
screenshot=${2:-/tmp/chargen-browser.png}
work=$(mktemp -d)
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
document="$work/draft.txt"

# The server in a session of its own (its apps too): the trap ends them all. Its own cache, so
# that no autosave copy of this check is offered to the user later.
XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data" setsid "$python" -m chargen_tui serve ${run:+"$run"} \
    --port "$port" --file "$document" --mode sample --no-adapt >"$work/server.out" 2>"$work/server.err" &
server=$!
trap 'kill -KILL -- -$server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.err"; exit 1; }
    sleep 0.1
done
echo "server: $(head -1 "$work/server.out")"
status=0
"$python" benchmarks/browser_check.py --url "http://127.0.0.1:$port" --document "$document" \
    --screenshot "$screenshot" || status=$?
if [ -s "$work/server.err" ]; then echo "server's stderr:"; cat "$work/server.err"; fi
exit $status
