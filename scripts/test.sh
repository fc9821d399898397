#!/usr/bin/env bash
# The test command: installs dependencies, builds the ci preset and runs every unit and
# integration test through ctest. Exits non-zero when anything fails.
set -euo pipefail

cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh
bash scripts/build.sh ci

# The JavaScript test clients (tests/*/package-lock.json), exactly as locked.
for lock in tests/*/package-lock.json; do
  [ -e "$lock" ] || continue
  npm ci --prefix "$(dirname "$lock")" --no-audit --no-fund --loglevel=error
done

# The storage contract and integration tests run on PostgreSQL too: a throwaway server
# unless DXHUB_TEST_POSTGRES already names one; stopped however this script ends.
if [ -z "${DXHUB_TEST_POSTGRES:-}" ]; then
  postgres_server="$PWD/scripts/postgres-test-server.sh"
  postgres_dir="$(mktemp -d)"
  trap 'bash "$postgres_server" stop "$postgres_dir"' EXIT
  DXHUB_TEST_POSTGRES="$(bash "$postgres_server" start "$postgres_dir")"
  export DXHUB_TEST_POSTGRES
fi

jobs="$(nproc 2>/dev/null || echo 2)"
set +e
ctest --preset ci -j"$jobs" 2>&1 | tee build/ci/ctest-output.log
status="${PIPESTATUS[0]}"
set -e

echo
echo "== ctest summary =="
grep -E '^[0-9]+% tests passed|tests failed out of|^Total Test time' build/ci/ctest-output.log || true
sed -n '/The following tests FAILED:/,$p' build/ci/ctest-output.log
exit "$status"
