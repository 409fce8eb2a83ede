#!/usr/bin/env bash
# The playground's browser test: the demo config (conf/demo.conf, as `make
# run` writes it) on a free loopback port in its own run directory, then
# playground.test.mjs in headless Chromium against it.
#
#   BUILD=build [SHOT_DIR=docs] tests/browser/run.sh
#
# Screenshots go to SHOT_DIR (default: the run directory, so that `make
# test` leaves the repository clean); SHOT_DIR=docs refreshes the README's.
set -euo pipefail
cd "$(dirname "$0")/../.."

BUILD=${BUILD:-build}
RUN_DIR=$BUILD/browser-run
export SHOT_DIR=${SHOT_DIR:-$RUN_DIR}

if [ ! -d tests/browser/node_modules/playwright-core ]; then
    echo "tests/browser: playwright-core is missing: run 'make deps'" >&2
    exit 1
fi

# a port nobody listens on (bind to 0 and give it back)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

stop() { make -s BUILD="$BUILD" RUN_DIR="$RUN_DIR" stop; }
trap stop EXIT

make -s BUILD="$BUILD" RUN_DIR="$RUN_DIR" PORT="$PORT" run >/dev/null
node tests/browser/json-paths.test.mjs
timeout 120 node tests/browser/playground.test.mjs "http://127.0.0.1:$PORT"
