#!/usr/bin/env bash
# Installs the system packages the local stack and the tests need, when they are missing:
# the MariaDB server and client binaries (a throwaway server is started from them), npm (the web
# application's build), Debian's Chromium (the browser tests drive it: never a browser download)
# and curl (the upload benchmark's baseline).
set -euo pipefail
PATH="$PATH:/usr/sbin:/usr/local/sbin"
missing=()
command -v mariadbd >/dev/null 2>&1 || command -v mysqld >/dev/null 2>&1 || missing+=(mariadb-server)
command -v mariadb-dump >/dev/null 2>&1 || command -v mysqldump >/dev/null 2>&1 || missing+=(mariadb-client)
command -v mariadb-install-db >/dev/null 2>&1 || command -v mysql_install_db >/dev/null 2>&1 || missing+=(mariadb-server)
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing system packages: ${missing[*]}. Install them (sudo apt-get install ${missing[*]}) and retry." >&2
  exit 1
fi
echo "Installing system packages with apt-get: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
echo "apt-get update ..."
apt-get update -qq
# The package's own service is not needed: the stack starts its own server.
printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
trap 'rm -f /usr/sbin/policy-rc.d' EXIT
# -q keeps one line per package set up, so a slow install is never silent.
apt-get install -y -q --no-install-recommends -o Dpkg::Progress-Fancy=0 "${missing[@]}"
