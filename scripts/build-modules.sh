#!/usr/bin/env bash
# build-modules.sh — build test/modules/src against each fetched kernel's headers.
#
# Output: test/modules/build/<kernel-release>/*.ko, with the whole kbuild tree of
# that release. A release is rebuilt only when a file in src/, or this script, is newer
# than its stamp.
#
# kbuild writes the build directory's path into a module (debug info), and the conformance
# records hold what the real kernel said of these exact files. So every checkout builds in
# the same place, $KBUILD_TREE/<release>, and copies the result; pahole runs on one thread
# (see kmake), so the files are the same from one build to the next.
#
# env: KMODSIM_CACHE (as in fetch-corpus.sh), KMODSIM_FORCE=1 rebuilds everything.
set -euo pipefail

HERE=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KMODSIM_CACHE:-$HOME/.cache/kmodsim}
ROOT=$CACHE/root
SRC=$HERE/test/modules/src
OUT=$HERE/test/modules/build
RELEASES=(6.1.0-57-amd64 6.12.107+deb12-amd64)
KBUILD_TREE=/tmp/kmodsim-kbuild

say() { printf '[build-modules] %s\n' "$*" >&2; }

# The headers' top Makefile includes the -common one by an absolute /usr/src
# path that only exists when the package is installed. Naming the -common
# Makefile with -f while -C stays in the arch dir gives kbuild the same srctree
# and objtree as an installed package would.
kmake() { # release moddir make-args...
  local rel=$1 dir=$2 hdr common
  shift 2
  hdr=$ROOT/usr/src/linux-headers-$rel
  [ -f "$hdr/Makefile" ] || { say "ERROR: no headers at $hdr (run fetch-corpus.sh)"; return 1; }
  common=$(sed -n 's#^include /usr/src/\(linux-headers-[^/]*\)/Makefile$#\1#p' "$hdr/Makefile")
  [ -n "$common" ] || { say "ERROR: cannot find the -common dir named in $hdr/Makefile"; return 1; }
  # 6.12 runs pahole for BTF on every module; use the unpacked copy, not the system's. With
  # KBUILD_BUILD_TIMESTAMP set, scripts/Makefile.btf leaves out pahole's -j, whose threads
  # otherwise put a module's BTF types in a different order from one build to the next (and
  # the kernel's BTF message numbers the type).
  KBUILD_BUILD_TIMESTAMP='Thu Jan  1 00:00:00 UTC 2026' \
  PATH=$ROOT/usr/bin:$PATH \
  LD_LIBRARY_PATH=$ROOT/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    make -s -C "$hdr" -f "$ROOT/usr/src/$common/Makefile" M="$dir" -j"$(nproc)" "$@" modules
}

rc=0
for rel in "${RELEASES[@]}"; do
  dir=$OUT/$rel
  stamp=$dir/.kmsim-built
  if [ -z "${KMODSIM_FORCE:-}" ] && [ -f "$stamp" ] \
     && [ -z "$(find "$SRC" "$HERE/scripts/build-modules.sh" -newer "$stamp" -print -quit)" ]; then
    say "up to date: $rel"
    continue
  fi
  say "building for $rel in ${dir#"$HERE"/}"
  work=$KBUILD_TREE/$rel
  rm -rf "$work"
  mkdir -p "$work"
  cp -p "$SRC"/* "$work"/
  # kmsim_user_nons deliberately lacks MODULE_IMPORT_NS; this turns modpost's
  # missing-import error into a warning (modpost -N) for this directory.
  if kmake "$rel" "$work" CONFIG_MODULE_ALLOW_MISSING_NAMESPACE_IMPORTS=y \
    2>"$work/build.log"; then
    rm -rf "$dir"
    mkdir -p "$(dirname "$dir")"
    cp -a "$work" "$dir"
    touch "$stamp"
    say "built: $(cd "$dir" && ls -- *.ko | tr '\n' ' ')"
  else
    say "ERROR: build for $rel failed; see $work/build.log:"
    tail -20 "$work/build.log" >&2
    rc=1
  fi
done
exit "$rc"
