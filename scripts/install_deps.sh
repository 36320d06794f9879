#!/bin/bash
# Installs every system package gemini_etl needs to build, test and run its
# demo, by Debian name.  Idempotent and quiet when everything is present.
# Both README commands and CI call this.
set -euo pipefail

PACKAGES=(
  build-essential
  postgresql-15 postgresql-server-dev-15 postgresql-15-cron
  libcurl4-openssl-dev libjson-c-dev libwebsockets-dev
  libipc-run-perl
  python3-aiohttp python3-websockets
  curl ca-certificates
  clang valgrind
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_deps: missing packages: ${missing[*]}; run as root (or install them)" >&2
  exit 1
fi
echo "install_deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
