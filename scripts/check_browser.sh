#!/usr/bin/env bash
# Checks the book in a real browser: run by .ci/run, and by hand after
# changing the book's links, headings or pictures.
#
#   1. builds the book with mdbook (check_book.sh pins its version);
#   2. serves book/book on a free loopback port, and stops the server on exit;
#   3. loads every page in headless Chromium (Debian's `chromium`, installed
#      with apt-get if missing) and checks the DOM it rendered: internal links
#      and #anchors, images, and includes that rendered nothing
#      (scripts/check_browser.py says exactly what);
#   4. keeps screenshots of three pictures, in the light and the dark theme,
#      in the directory it prints (target/browser-check/ unless given).
#
#   bash scripts/check_browser.sh [SHOT_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

export PATH="$HOME/.cargo/bin:$PATH"
shots=${1:-target/browser-check}

step() { echo "--- check_browser: $*"; }
fail() {
    echo "check_browser: FAILED: $*" >&2
    exit 1
}

step "chromium"
if ! command -v chromium >/dev/null; then
    apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
chromium --version 2>/dev/null

step "mdbook build book"
mdbook build book >/dev/null 2>&1 || fail "mdbook build book failed (run scripts/check_book.sh)"

step "serve book/book"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server "$port" --bind 127.0.0.1 --directory book/book >/dev/null 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/index.html" && break
    sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$port/index.html" || fail "the server on port $port did not answer"
echo "  http://127.0.0.1:$port/"

step "pages"
mkdir -p "$shots"
shots=$(cd "$shots" && pwd)
python3 scripts/check_browser.py book/book book/src "http://127.0.0.1:$port/" "$shots"

echo "check_browser: OK"
