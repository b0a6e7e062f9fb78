#!/usr/bin/env bash
# fetch-corpus.sh — put Debian bookworm kernel packages (amd64) into a private cache.
#
# Nothing is installed: each package is fetched with `apt-get download` and
# unpacked with `dpkg -x` into a single tree. One tree matters because the
# arch-specific header packages point at their -common sibling and at the
# kbuild package through relative symlinks, which only resolve side by side.
#
# usage: fetch-corpus.sh [all|headers]
#   all      (default) images, headers, kbuild, pahole + libbpf1
#   headers  everything except the linux-image packages
#
# env: KMODSIM_CACHE (default $HOME/.cache/kmodsim)
#
# Layout:
#   $CACHE/debs/      downloaded .deb files (kept, so a wiped root re-extracts offline)
#   $CACHE/root/      the dpkg -x tree (lib/modules/<rel>, usr/src/linux-headers-<rel>, ...)
#   $CACHE/stamps/    one file per unpacked package+version; its presence means "done"
#   $CACHE/old-abi    the older 6.1 ABI number that was chosen (47 unless it left the archive)
set -euo pipefail

MODE=${1:-all}
case $MODE in all|headers) ;; *) echo "usage: $0 [all|headers]" >&2; exit 2 ;; esac

CACHE=${KMODSIM_CACHE:-$HOME/.cache/kmodsim}
ABI=57
WANT_OLD_ABI=47
V612=6.12.107+deb12

mkdir -p "$CACHE/debs" "$CACHE/root" "$CACHE/stamps"

say() { printf '[fetch-corpus] %s\n' "$*" >&2; }

# The _apt sandbox user usually cannot write below /root, where the cache lives.
APT_GET=(apt-get -q -o APT::Sandbox::User=root)

# apt-cache start-up dominates a re-run, so candidates are asked for in one call.
declare -A CAND=()
load_candidates() { # pkg... -> fills CAND with the versions apt would pick
  local pkg ver
  while read -r pkg ver; do
    [ "$ver" = "(none)" ] || CAND[$pkg]=$ver
  done < <(apt-cache policy "$@" 2>/dev/null \
    | awk '/^[^ ].*:$/ { sub(/:$/, ""); p = $0 } /^ +Candidate:/ { print p, $2 }')
}
candidate() { # pkg -> version apt would pick, empty if unknown
  [ -n "${CAND[$1]+set}" ] || load_candidates "$1"
  printf '%s' "${CAND[$1]:-}"
}

UPDATED=0
ensure_lists() { # pkg... -> run apt-get update once if any is unknown to the lists
  local p
  [ "$UPDATED" = 1 ] && return 0
  for p in "$@"; do
    if [ -z "$(candidate "$p")" ]; then
      say "apt lists do not know $p: running apt-get update"
      "${APT_GET[@]}" update >&2
      UPDATED=1
      CAND=()
      return 0
    fi
  done
}

fetch() { # pkg -> downloads + unpacks if not done yet
  local pkg=$1 ver vfile stamp deb
  ver=$(candidate "$pkg")
  if [ -z "$ver" ]; then
    say "ERROR: $pkg is not available from apt"
    return 1
  fi
  vfile=${ver//:/%3a}
  stamp=$CACHE/stamps/${pkg}_${vfile}
  if [ -f "$stamp" ]; then
    say "up to date: $pkg $ver"
    return 0
  fi
  deb=$(ls "$CACHE/debs/${pkg}_${vfile}_"*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    say "download: $pkg $ver"
    if ! (cd "$CACHE/debs" && "${APT_GET[@]}" download "$pkg=$ver" >&2); then
      say "ERROR: download of $pkg $ver failed"
      return 1
    fi
    deb=$(ls "$CACHE/debs/${pkg}_${vfile}_"*.deb 2>/dev/null | head -1 || true)
    [ -n "$deb" ] || { say "ERROR: no .deb for $pkg after download"; return 1; }
  fi
  say "unpack: $(basename "$deb")"
  dpkg -x "$deb" "$CACHE/root"
  # Written last so an interrupted unpack is redone on the next run.
  printf '%s\n' "$ver" >"$stamp"
}

load_candidates "linux-headers-6.1.0-$ABI-amd64" "linux-headers-6.1.0-$WANT_OLD_ABI-amd64" \
  "linux-headers-$V612-amd64" linux-kbuild-6.1 pahole
ensure_lists "linux-headers-6.1.0-$ABI-amd64" "linux-headers-$V612-amd64" \
  linux-kbuild-6.1 pahole

# Security updates retire old ABIs; the oldest remaining one keeps "an older
# build of the same series" available for cross-ABI tests.
OLD_ABI=$WANT_OLD_ABI
if [ -z "$(candidate "linux-headers-6.1.0-$OLD_ABI-amd64")" ]; then
  OLD_ABI=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' 2>/dev/null \
    | sed -n 's/^linux-headers-6\.1\.0-\([0-9]*\)-amd64 .*/\1/p' | sort -n \
    | grep -vx "$ABI" | head -1 || true)
  say "6.1 ABI $WANT_OLD_ABI is gone; older ABI chosen: ${OLD_ABI:-none}"
fi

PKGS=()
[ "$MODE" = all ] && PKGS+=("linux-image-6.1.0-$ABI-amd64-unsigned")
PKGS+=("linux-headers-6.1.0-$ABI-amd64" "linux-headers-6.1.0-$ABI-common")
if [ -n "$OLD_ABI" ]; then
  PKGS+=("linux-headers-6.1.0-$OLD_ABI-amd64" "linux-headers-6.1.0-$OLD_ABI-common")
fi
PKGS+=(linux-kbuild-6.1)
[ "$MODE" = all ] && PKGS+=("linux-image-$V612-amd64-unsigned")
PKGS+=("linux-headers-$V612-amd64" "linux-headers-$V612-common" "linux-kbuild-$V612")
# 6.12's headers carry a BTF vmlinux, so module linking runs pahole; we use an
# unpacked copy instead of installing it.
PKGS+=(pahole libbpf1)

load_candidates "${PKGS[@]}"
rc=0
for p in "${PKGS[@]}"; do
  fetch "$p" || rc=1
done

if [ -n "$OLD_ABI" ]; then
  printf '%s\n' "$OLD_ABI" >"$CACHE/old-abi"
else
  say "ERROR: no older 6.1 ABI is available"
  rc=1
fi

for h in "$CACHE"/root/usr/src/linux-headers-*-amd64; do
  [ -f "$h/Module.symvers" ] && say "symvers: $h/Module.symvers"
done
for d in "$CACHE"/root/lib/modules/*/kernel; do
  [ -d "$d" ] && say "modules: $(dirname "$d")"
done
[ "$rc" = 0 ] || say "some packages could not be fetched"
exit "$rc"
