#!/usr/bin/env bash
# One command for a fresh Debian 12 machine: install, build, and serve the demo at http://localhost:5001.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/customer-portal demo "$@"
