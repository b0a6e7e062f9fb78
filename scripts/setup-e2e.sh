#!/usr/bin/env bash
# setup-e2e.sh — the tools of the in-editor tests (test/e2e), kept outside the repository:
#
# 1. apt-get install chromium (Playwright drives Debian's build, it downloads no browser),
#    ripgrep (code-server's file search) and what code-server's native modules build with.
# 2. code-server $CS_VERSION from npm into $CACHE/e2e/code-server-$CS_VERSION. It is not a
#    dependency of the project: 300 MB and six native builds would weigh on every `npm ci`.
#
# Prints the code-server binary's path on stdout. Each step does nothing when already done.
# env: KMODSIM_CACHE (as in fetch-corpus.sh).
set -euo pipefail

# The last code-server whose postinstall accepts Node 20 (VS Code 1.100.3). package.json's
# engines.vscode must not be newer than this editor.
CS_VERSION=4.100.3
# The @vscode/ripgrep that code-server 4.100.3 pulls in, and the rg release it fetches.
RG_PKG_VERSION=1.15.11
RG_ASSET=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz

CACHE=${KMODSIM_CACHE:-$HOME/.cache/kmodsim}
DEST=$CACHE/e2e/code-server-$CS_VERSION
say() { printf '[setup-e2e] %s\n' "$*" >&2; }

NEED=(chromium ripgrep libkrb5-dev g++ make python3 pkg-config)
# shellcheck source=apt-need.sh
. "$(dirname "$0")/apt-need.sh"
apt_need "${NEED[@]}"

BIN=$DEST/node_modules/.bin/code-server
if [ -x "$BIN" ] && [ -f "$DEST/.complete" ]; then
  echo "$BIN"
  exit 0
fi

say "installing code-server $CS_VERSION into $DEST (about a minute)"
rm -rf "$DEST.partial"
mkdir -p "$DEST.partial"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# @vscode/ripgrep's postinstall downloads rg from GitHub, which this network does not reach.
# It looks in its cache first, so put Debian's rg there under the asset's name.
mkdir -p "$WORK/tmp/vscode-ripgrep-cache-$RG_PKG_VERSION" "$WORK/rg"
cp /usr/bin/rg "$WORK/rg/rg"
tar -C "$WORK/rg" -czf "$WORK/tmp/vscode-ripgrep-cache-$RG_PKG_VERSION/$RG_ASSET" rg

# node-gyp builds against the local Node headers (it would fetch them otherwise); node-pty's
# postinstall runs `npx node-gyp`, which npm_config_yes lets through; as root the postinstall
# insists on unsafe-perm. HOME-side state of the install goes to $WORK.
echo '{"private":true}' >"$DEST.partial/package.json"
(
  cd "$DEST.partial"
  TMPDIR=$WORK/tmp npm_config_nodedir=${npm_config_nodedir:-/usr} npm_config_yes=true \
    XDG_CONFIG_HOME=$WORK/xdg-config XDG_DATA_HOME=$WORK/xdg-data \
    npm install --no-audit --no-fund --unsafe-perm --foreground-scripts \
    "code-server@$CS_VERSION" >"$WORK/install.log" 2>&1
) || { cat "$WORK/install.log" >&2; exit 1; }

XDG_CONFIG_HOME=$WORK/xdg-config "$DEST.partial/node_modules/.bin/code-server" --version >&2
touch "$DEST.partial/.complete"
rm -rf "$DEST"
mv "$DEST.partial" "$DEST"
echo "$BIN"
