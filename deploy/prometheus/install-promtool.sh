#!/usr/bin/env bash
# Puts Prometheus's promtool at $1 (make test runs `promtool check rules` / `test rules`).
# Order: a promtool already on PATH; else the binary out of Debian's `prometheus` package,
# unpacked without installing it (no service is started, nothing is left in /usr).
set -euo pipefail

dest="$1"
mkdir -p "$(dirname "$dest")"

if existing="$(command -v promtool)"; then
  ln -sf "$existing" "$dest"
elif command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  chmod 0777 "$tmp"  # apt downloads as its sandbox user
  download() { (cd "$tmp" && apt-get download -qq prometheus >/dev/null); }
  if ! download; then
    if [ "$(id -u)" = 0 ]; then
      echo "install-promtool: refreshing the apt package lists" >&2
      apt-get update -qq >/dev/null
      download
    else
      echo "install-promtool: 'apt-get download prometheus' failed; run 'sudo apt-get update'" \
        "or install promtool on PATH, then retry" >&2
      exit 1
    fi
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
  cp "$tmp/x/usr/bin/promtool" "$dest"
else
  echo "install-promtool: promtool not found. Install Prometheus's promtool (Debian/Ubuntu:" \
    "the 'prometheus' package; elsewhere the release archive from prometheus.io) on PATH" >&2
  exit 1
fi

"$dest" --version 2>&1 | head -n 1
