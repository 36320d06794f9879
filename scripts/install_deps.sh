#!/bin/bash
# Installs every system package gemini_etl needs to build, test and run its
# demo, by Debian name (awscli is Debian's aws CLI, /usr/bin/aws).
# Idempotent and quiet when everything is present.
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
  awscli zlib1g-dev libzstd-dev libsnappy-dev
)
# The S3 tests run s3rver and DuckDB under Node (test/s3, `npm ci`): Debian's
# nodejs and npm only when there is no node at all, so that a newer Node
# already installed (Node 20 on the CI machines) is not replaced.
if ! command -v node >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

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
