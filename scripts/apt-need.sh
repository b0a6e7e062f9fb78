# apt-need.sh — sourced by the setup scripts: `apt_need PKG...` installs the Debian packages of
# the list that are not installed yet, running `apt-get update` only when something is missing
# (a fresh machine may have no package lists; a ready one should not touch the network).
# The caller defines say().

apt_need() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  say "installing: ${missing[*]}"
  # As root rather than the _apt user, which may not reach the caches under $HOME.
  local apt=(apt-get -q -o APT::Sandbox::User=root)
  "${apt[@]}" update >&2
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y --no-install-recommends \
    "${missing[@]}" >&2
}
