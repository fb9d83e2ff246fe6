#!/usr/bin/env bash
# SPEC §9 workload over HTTP: 64 keep-alive connections from wrk on the same machine, a signed-in
# customer, GET /api/v1/inventory mixed: ½ paging with a random sort column and page, ¼ exact
# part or bin filters, ¼ q searches of 3-letter fragments. Prints requests/s and p50/p99 for a
# 10,000-row and a 100,000-row snapshot. Usage: bench/http_bench.sh [seconds per run, default 15]
# (PORTAL_BINARY=path runs another build of the portal).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
binary="${PORTAL_BINARY:-$root/build/customer-portal}"
seconds="${1:-15}"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

cd "$work"
PORT=$port HOST=127.0.0.1 LOG_LEVEL=warning ERP_CACHE_SECONDS=3600 PORTAL_ASSETS_DIR="$root" \
  "$binary" demo > portal.log 2>&1 &
pid=$!
for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done

hash=$(printf 'bench-password-2026' | "$binary" hash-password)
/usr/bin/python3 - "$hash" <<'PY'
import sqlite3, sys
db = sqlite3.connect("data/demo/portal.db", timeout=10)
for email, name in [("bench10k@bench.example", "Northwind Traders"), ("bench100k@bench.example", "Globex Corporation")]:
    db.execute("DELETE FROM Customers WHERE email = ?", (email,))
    db.execute("INSERT INTO Customers (first_name, last_name, email, password_hash, erp_customer_name, is_active, "
               "created_date, must_reset_password) VALUES ('Bench', 'User', ?, ?, ?, 1, '2026-01-01 00:00:00', 0)",
               (email, sys.argv[1], name))
db.commit()
PY

login() {  # prints the session cookie for $1
  local jar="$work/jar-$1"
  local token
  token=$(curl -s -c "$jar" -b "$jar" "http://127.0.0.1:$port/login" | grep -o 'name="csrf_token" value="[^"]*"' | sed 's/.*value="//;s/"$//')
  curl -s -o /dev/null -c "$jar" -b "$jar" --data-urlencode "csrf_token=$token" --data-urlencode "email=$1" \
    --data-urlencode "password=bench-password-2026" "http://127.0.0.1:$port/login"
  awk '$6 == "portal_session" {print $7}' "$jar"
}

run() {  # $1 email, $2 label
  local cookie
  cookie=$(login "$1")
  # Real values for the exact filters and the search fragments, from the snapshot itself.
  curl -s -b "portal_session=$cookie" "http://127.0.0.1:$port/api/v1/inventory?per_page=1000" > sample.json
  /usr/bin/python3 - "$cookie" > workload.lua <<'PY'
import json, random, sys
d = json.load(open("sample.json"))
cols = d["columns"]
parts = d["facets"]["part"][:2000]
bins = d["facets"]["bin"][:2000]
words = []
for row in d["rows"]:
    for v in row:
        if isinstance(v, str) and len(v) >= 3:
            i = random.randrange(len(v) - 2)
            words.append(v[i:i+3])
pages = max(1, d["total"] // 100)
def lua_list(xs):
    from urllib.parse import quote
    return "{" + ",".join('"%s"' % quote(x, safe="") for x in xs) + "}"
print('local cookie = "portal_session=%s"' % sys.argv[1])
print("local cols = " + lua_list(cols))
print("local parts = " + lua_list(parts))
print("local bins = " + lua_list(bins))
print("local words = " + lua_list(words[:3000]))
print("local pages = %d" % pages)
print('''
math.randomseed(42)
request = function()
  local r = math.random(4)
  local path
  if r <= 2 then
    local order = (math.random(2) == 1) and "asc" or "desc"
    path = "/api/v1/inventory?sort=" .. cols[math.random(#cols)] .. "&order=" .. order .. "&page=" .. math.random(pages)
  elseif r == 3 then
    if math.random(2) == 1 then path = "/api/v1/inventory?part=" .. parts[math.random(#parts)]
    else path = "/api/v1/inventory?bin=" .. bins[math.random(#bins)] end
  else
    path = "/api/v1/inventory?q=" .. words[math.random(#words)]
  end
  return wrk.format("GET", path, {["Cookie"] = cookie})
end
''')
PY
  # Warm the snapshot, then measure.
  wrk -t2 -c64 -d3s -s workload.lua "http://127.0.0.1:$port" > /dev/null
  echo "== $2"
  wrk -t2 -c64 -d"${seconds}s" --latency -s workload.lua "http://127.0.0.1:$port" | \
    grep -E "Requests/sec|Transfer/sec| 50%| 99%|Non-2xx|Socket errors"
}

run bench10k@bench.example "10,000-row snapshot (Northwind Traders)"
run bench100k@bench.example "100,000-row snapshot (Globex Corporation)"
echo "== idle RSS after the runs: $(awk '/VmRSS/ {print $2, $3}' /proc/$pid/status)"
