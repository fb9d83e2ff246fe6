#!/bin/sh
# /usr/bin/customer-portal: runs the installed binary with the installed templates, static files
# and queries. The binary's compiled-in asset folder is the source tree it was built from, so an
# installed copy is told where its assets are; PORTAL_ASSETS_DIR in the environment still wins.
prefix=$(dirname "$(dirname "$(readlink -f "$0")")")
: "${PORTAL_ASSETS_DIR:=$prefix/share/customer-portal}"
export PORTAL_ASSETS_DIR
exec "$prefix/lib/customer-portal/customer-portal" "$@"
