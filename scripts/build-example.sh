#!/usr/bin/env bash
# build-example.sh — build examples/hello/hello.ko against the fetched 6.1.0-57 headers.
#
# The build runs in a scratch copy ($CACHE/example-build/hello) so kbuild's
# by-products stay out of the source tree; only the debug-stripped hello.ko is
# copied back (it is committed).
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KMODSIM_CACHE:-$HOME/.cache/kmodsim}
ROOT=$CACHE/root
REL=${1:-6.1.0-57-amd64}
SRC=$HERE/examples/hello
HDR=$ROOT/usr/src/linux-headers-$REL

say() { printf '[build-example] %s\n' "$*" >&2; }

[ -f "$HDR/Makefile" ] || { say "ERROR: no headers at $HDR (run fetch-corpus.sh headers)"; exit 1; }
# The installed-package Makefile includes -common by an absolute path; point at it ourselves.
common=$(sed -n 's#^include /usr/src/\(linux-headers-[^/]*\)/Makefile$#\1#p' "$HDR/Makefile")
[ -n "$common" ] || { say "ERROR: cannot find the -common dir named in $HDR/Makefile"; exit 1; }

# A fixed scratch path: the build-id hashes the debug info, which names the
# build directory, so a random one would change hello.ko on every rebuild.
work=$CACHE/example-build/hello
rm -rf "$work"
mkdir -p "$work"
cp -p "$SRC/hello.c" "$SRC/Kbuild" "$work/"
PATH=$ROOT/usr/bin:$PATH \
LD_LIBRARY_PATH=$ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
  make -s -C "$HDR" -f "$ROOT/usr/src/$common/Makefile" M="$work" modules >&2
# Debug info is most of the file; the loader never reads it.
strip --strip-debug -o "$SRC/hello.ko" "$work/hello.ko"
say "built $SRC/hello.ko ($(stat -c %s "$SRC/hello.ko") bytes, vermagic: \
$(modinfo -F vermagic "$SRC/hello.ko"))"
