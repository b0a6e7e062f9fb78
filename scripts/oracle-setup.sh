#!/usr/bin/env bash
# oracle-setup.sh — everything `npm run oracle:record` needs besides node:
#
# 1. apt-get install the host tools that are missing: qemu-system-x86 (the guest), cpio (the
#    initramfs), gcc + libc6-dev (the static in-guest loader), xz-utils/zstd/gzip (inputs)
# 2. the Debian kernel images and module trees: scripts/fetch-corpus.sh all
# 3. busybox-static, fetched with `apt-get download` and unpacked into the cache (not
#    installed on the host): its /bin/busybox is the guest's shell for /init
# 4. test/oracle/loader.c built with gcc -static into the cache
#
# env: KMODSIM_CACHE (default $HOME/.cache/kmodsim). Each step does nothing when it is done.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KMODSIM_CACHE:-$HOME/.cache/kmodsim}
OUT=$CACHE/oracle
say() { printf '[oracle-setup] %s\n' "$*" >&2; }
APT_GET=(apt-get -q -o APT::Sandbox::User=root)

NEED=(qemu-system-x86 cpio gcc libc6-dev xz-utils zstd gzip openssl)
# shellcheck source=apt-need.sh
. "$HERE/scripts/apt-need.sh"
apt_need "${NEED[@]}"

"$HERE/scripts/fetch-corpus.sh" all

mkdir -p "$OUT/debs" "$OUT/busybox"
if [ ! -x "$OUT/busybox/bin/busybox" ]; then
  say "fetching busybox-static"
  (cd "$OUT/debs" && { "${APT_GET[@]}" download busybox-static >&2 \
    || { "${APT_GET[@]}" update >&2 && "${APT_GET[@]}" download busybox-static >&2; }; })
  dpkg -x "$(ls -t "$OUT"/debs/busybox-static_*.deb | head -1)" "$OUT/busybox"
fi

LOADER_SRC=$HERE/test/oracle/loader.c
if [ ! -x "$OUT/loader" ] || [ "$LOADER_SRC" -nt "$OUT/loader" ]; then
  say "building the in-guest loader"
  gcc -static -O2 -Wall -Wextra -Werror -o "$OUT/loader" "$LOADER_SRC"
fi
say "ready: $OUT"
