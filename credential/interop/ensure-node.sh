#!/usr/bin/env bash
# Makes sure node and npm are installed: on a fresh CI machine they come
# from Debian's packages (the only other source the machines reach).
set -euo pipefail
if command -v node >/dev/null && command -v npm >/dev/null; then
  exit 0
fi
echo "interop: node/npm missing; installing Debian's nodejs and npm" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
node --version
