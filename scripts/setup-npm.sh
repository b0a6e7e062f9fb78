#!/usr/bin/env bash
# setup-npm.sh — what `npm ci` needs, then `npm ci` when node_modules is missing or older than
# package-lock.json. Run by `npm run example` and by setup.sh; does nothing when done.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '[setup] %s\n' "$*" >&2; }

# node-liblzma's install builds its binding with node-gyp against the system liblzma (its
# linux-x64 prebuild needs a newer libstdc++ than Debian 12's): a compiler and make, python3
# for gyp, pkg-config to find liblzma-dev.
# shellcheck source=apt-need.sh
. "$HERE/scripts/apt-need.sh"
apt_need g++ make python3 pkg-config liblzma-dev

# npm rewrites node_modules/.package-lock.json on every install, so it dates
# the last install better than the directory does.
STAMP=$HERE/node_modules/.package-lock.json
if [ ! -f "$STAMP" ] || [ "$HERE/package-lock.json" -nt "$STAMP" ]; then
  say "npm ci"
  # node-gyp compiles against the running node's own headers (Debian's nodejs ships them in
  # /usr/include/node) rather than downloading them from nodejs.org.
  prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  if [ -z "${npm_config_nodedir:-}" ] && [ -f "$prefix/include/node/node_api.h" ]; then
    export npm_config_nodedir=$prefix
  fi
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi
