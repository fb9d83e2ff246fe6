#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install, build, and run every test (unit, integration, e2e).
# Pass a ctest label to run one kind only, e.g. `scripts/test.sh unit`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
label=()
if [ $# -gt 0 ]; then label=(-L "$1"); fi
cd build
ctest --output-on-failure --timeout 900 -j "$(nproc)" "${label[@]}"
