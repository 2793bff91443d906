#!/usr/bin/env bash
# `chargen-tui lsp` in a real Emacs, with its two LSP clients set up as a user's init file would
# (benchmarks/emacs_check.el): Debian 12's Emacs 28.2 in batch mode, with eglot 1.9 and then
# lsp-mode 8.0.0 (apt-get install emacs-nox elpa-eglot elpa-lsp-mode). In each, it types
# "I paid with my credit c" in draft.txt, prints the candidates of the client's completion-at-point
# (they must hold "card"), accepts, saves and checks the file says "I paid with my credit card";
# then the same after an emoji (eglot counts UTF-16 units, lsp-mode 8 characters; the server knows
# lsp-mode's count). Neither client has inline completion (lsp-mode's
# came after 9.0.0), so only textDocument/completion is checked. Exits non-zero on any failure.
#
#     bash benchmarks/emacs_check.sh [RUN_DIR]    # default: the shipped model
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")   # absolute; a venv's link kept
work=$(mktemp -d)
# The servers' process ids are written by emacs_check.el; each Emacs quits its own, the trap any left.
trap 'xargs -r kill -KILL <"$work/pids" 2>/dev/null || true; rm -rf "$work"' EXIT
touch "$work/pids"
server="(\"$python\" \"-m\" \"chargen_tui\" \"lsp\"${1:+ \"$(realpath "$1")\"})"

status=0
for client in eglot lsp-mode; do
  for case in plain emoji; do   # one Emacs each: lsp-mode 8 would not start a second workspace in one
    mkdir "$work/$client-$case"
    # its own data and cache folders: nothing is learned into, or read from, the user's memory
    PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" XDG_DATA_HOME="$work/$client-$case/data" \
        XDG_CACHE_HOME="$work/$client-$case/cache" CHECK_CLIENT=$client CHECK_CASE=$case CHECK_SERVER="$server" \
        CHECK_WORK="$work/$client-$case" CHECK_PID_FILE="$work/pids" \
        timeout 120 emacs --batch -l benchmarks/emacs_check.el >"$work/$client-$case.out" 2>&1 || status=1
    # what Emacs printed (the server's messages too), less its loading and connection messages
    grep -avE -e '^Loading |^\[eglot\] (Connected|Asking)|^\[jsonrpc\] Server exited with status 9' \
        -e '^LSP :: (Connected to|chargen-tui:[0-9]+ initialized|Stopping|chargen-tui has exited|Workspace)' \
        -e '^Process chargen-tui stderr finished|^$' "$work/$client-$case.out" || true
  done
done
[ $status = 0 ] || echo FAILED
exit $status
