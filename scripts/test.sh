#!/usr/bin/env bash
# npm test: set the machine up (tools, npm packages, the Debian kernels, the project's own test
# modules), type-check, build the bundles, then run every test with node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
echo '[test] tsc --noEmit' >&2
npx tsc --noEmit -p .
echo '[test] esbuild' >&2
node esbuild.mjs

# Unit tests first (seconds), then the whole-corpus ones (a few minutes on 2 cores).
mapfile -t files < <(ls test/unit/*.test.ts test/cli/*.test.ts test/conformance/*.test.ts \
  test/corpus/*.test.ts 2>/dev/null)
exec node --import tsx --test --test-concurrency=2 "${files[@]}"
