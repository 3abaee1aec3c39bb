#!/usr/bin/env bash
# Times `clerk-incident triage` against a local sim: once healthy, once with every probe hung.
# The all-hung time must be about one probe timeout, not four: the probes run concurrently.
# Only 127.0.0.1 is contacted; the whole script takes a few seconds after the build.
set -euo pipefail
cd "$(dirname "$0")/.."

TIMEOUT=${TIMEOUT:-2s}
cargo build -q --release -p clerk-incident-cli
bin=target/release/clerk-incident

workdir=$(mktemp -d)
cleanup() { kill "${sim_pid:-}" "${silent_pid:-}" 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT

"$bin" sim --json > "$workdir/sim.json" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$workdir/sim.json" ] && break; sleep 0.05; done
base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$workdir/sim.json")
export CLERK_API_URL=$base CLERK_STATUS_URL=$base CLERK_JWKS_URL=$base/.well-known/jwks.json
export CLERK_SECRET_KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["env"]["CLERK_SECRET_KEY"])' "$workdir/sim.json")

# A listener that accepts connections and never answers: the hung status page and app.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)
' > "$workdir/silent.port" &
silent_pid=$!
for _ in $(seq 100); do [ -s "$workdir/silent.port" ] && break; sleep 0.05; done
silent="http://127.0.0.1:$(cat "$workdir/silent.port")"

time_triage() {
  local start end code
  start=$(date +%s%N)
  set +e; "$bin" triage --timeout "$TIMEOUT" "$@" > /dev/null 2>&1; code=$?; set -e
  end=$(date +%s%N)
  echo "$(( (end - start) / 1000000 )) ms (exit $code)"
}

echo "healthy triage (status page, Backend API, JWKS):       $(time_triage)"
curl -s -X PUT "$base/_sim/faults" -H 'content-type: application/json' -d '{"outage":"hang"}' > /dev/null
echo "all probes hung, --timeout $TIMEOUT (4 probes):            $(time_triage --status-url "$silent" --app-url "$silent")"
