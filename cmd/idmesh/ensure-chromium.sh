#!/usr/bin/env bash
# Makes sure Chromium is installed for the browser tests (make browser):
# on a fresh CI machine it comes from Debian's chromium package (the
# only source the machines reach); the tests never download a browser.
set -euo pipefail
if command -v chromium >/dev/null; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "browser: chromium is missing; install Debian's package as root:" >&2
  echo "  apt-get update && apt-get install -y --no-install-recommends chromium" >&2
  exit 1
fi
echo "browser: chromium missing; installing Debian's chromium" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
chromium --version
