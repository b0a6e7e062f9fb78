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
  test/fuzz/*.test.ts test/regressions/*.test.ts test/lsp/*.test.ts test/corpus/*.test.ts \
  2>/dev/null)
# The three test stages all run even when one fails, so one red stage does not hide another's
# results; the run fails if any did.
failed=()

# A minute of fuzzing (test/fuzz/run.ts); a crash or hang fails the run, its input kept.
echo '[test] fuzz 60 s' >&2
npm run -s fuzz -- 60 || failed+=(fuzz)
node --import tsx --test --test-concurrency=2 "${files[@]}" || failed+=(tests)

# The editor tests (test/e2e): the mocha suite in code-server's extension host, then the UI
# test in chromium; one at a time, about 40 s.
echo '[test] editor: code-server and chromium' >&2
node --import tsx --test --test-concurrency=1 test/e2e/*.test.ts || failed+=(editor)

if ((${#failed[@]})); then
  echo "[test] failed: ${failed[*]}" >&2
  exit 1
fi
# The runners' own totals are far up in their TAP output; say the verdict last.
echo '[test] passed: fuzz, tests, editor' >&2
