#!/usr/bin/env bash
# Sets up .venv with the test extras and runs the whole test suite. Integration tests against
# PostgreSQL run when XDSNO_TEST_DATABASE_URL is set (.ci/run starts a throwaway cluster);
# otherwise they are skipped. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/ci/venv.sh
ensure_venv test
exec .venv/bin/python -m pytest "$@"
