#!/usr/bin/env bash
# Sets up a virtual environment in .venv (first run only) and serves every actor on the
# embedded defaults: SQLite and a local blob folder under ./data, http://127.0.0.1:8080.
# Extra arguments go to `xdsno serve` (e.g. --port 9090 --profile ihe).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci/venv.sh
ensure_venv
exec .venv/bin/xdsno serve "$@"
