#!/usr/bin/env bash
# Installs every system package the portal builds, runs and tests with (Debian 12), then the npm test tools.
# Idempotent: apt-get skips what is present, npm ci reinstalls from the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
  libsoci-dev libsqlite3-dev libpq-dev unixodbc-dev
  tdsodbc odbc-postgresql libsqliteodbc
  libsodium-dev libssl-dev libldap-dev libcurl4-openssl-dev zlib1g-dev
  libkainjow-mustache-dev libxlsxwriter-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  postgresql python3 python3-aiosmtpd python3-openpyxl libreoffice-calc-nogui slapd ldap-utils
  chromium wrk curl procps openssl
  haproxy
  # The .deb (make package, tests/integration/package_test.cpp): dpkg-shlibdeps computes Depends,
  # CPack runs `file`; the package needs adduser; systemd-analyze verifies the unit (nothing starts).
  dpkg-dev file adduser systemd
)
# Node.js may come from elsewhere (its own npm inside); take Debian's only when there is none.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  # slapd, postgresql and haproxy would start system services; the tests start their own on loopback.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ -f package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
