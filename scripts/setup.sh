#!/usr/bin/env bash
# setup.sh — make this machine ready to build and test kmodsim.
#
# 1. apt-get install the build/test tools that are missing (update first only then)
# 2. scripts/setup-npm.sh: what npm ci needs, then npm ci when node_modules is out of date
# 3. scripts/fetch-corpus.sh "$@"   (all | headers)
# 4. scripts/build-modules.sh
# Each step does nothing when its work is already done.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '[setup] %s\n' "$*" >&2; }

# kmod: modinfo/depmod for parity tests; libssl3: kbuild's sign-file;
# libelf1/libdw1: the extracted pahole and objtool; openssl: the conformance matrix signs a
# module with its test-only foreign key.
NEED=(gcc-12 make libelf1 libdw1 libssl3 kmod binutils xz-utils zstd gzip bc ca-certificates
  openssl)
# neovim: the language server in another LSP client (test/lsp/neovim.test.ts).
NEED+=(neovim)
# strace: test/cli runs the real insmod with its system calls faked (nothing is loaded).
NEED+=(strace)
# shellcheck source=apt-need.sh
. "$HERE/scripts/apt-need.sh"
apt_need "${NEED[@]}"

"$HERE/scripts/setup-npm.sh"

# Run a step, then show its stderr minus the "nothing to do" lines; all of it on failure.
quiet_run() { # filter-regex cmd...
  local filter=$1 log rc=0
  shift
  log=$(mktemp)
  "$@" 2>"$log" || rc=$?
  if [ "$rc" = 0 ]; then grep -Ev "$filter" "$log" >&2 || true; else cat "$log" >&2; fi
  rm -f "$log"
  return "$rc"
}

quiet_run '^\[fetch-corpus\] (up to date|symvers|modules):' "$HERE/scripts/fetch-corpus.sh" "$@"
quiet_run '^\[build-modules\] up to date:' "$HERE/scripts/build-modules.sh"

# code-server and chromium for the editor tests (test/e2e); prints code-server's path.
"$HERE/scripts/setup-e2e.sh" >/dev/null
