#!/usr/bin/env bash
# Three `clerk-incident sessions revoke --all` runs at once against a local sim whose rate
# limit is Clerk's production one (1000 requests per 10 s, a sliding window): first each on
# its own pacer (together they trip the limit), then on the fleet's shared budget in a local
# redis-server (together they stay under it). Prints, for each, the combined request rate at
# the sim as a share of the limit and the number of 429s it answered.
# Only 127.0.0.1 is contacted; needs redis-server (scripts/test installs it). About a minute.
set -euo pipefail
cd "$(dirname "$0")/.."

USERS=${USERS:-600}
SESSIONS=${SESSIONS:-1200}
cargo build -q --release -p clerk-incident-cli
bin=$PWD/target/release/clerk-incident
redis_server=${REDIS_SERVER:-$(command -v redis-server)}

workdir=$(mktemp -d)
cleanup() { kill "${sim_pid:-}" "${redis_pid:-}" 2>/dev/null || true; rm -rf "$workdir"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
redis_port=$(free_port)
"$redis_server" --bind 127.0.0.1 --port "$redis_port" --dir "$workdir" --save "" --appendonly no \
  --logfile "$workdir/redis.log" &
redis_pid=$!
for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done

"$bin" sim --json --users "$USERS" --sessions "$SESSIONS" --rate-limit 1000/10s > "$workdir/sim.json" &
sim_pid=$!
for _ in $(seq 100); do [ -s "$workdir/sim.json" ] && break; sleep 0.05; done
base=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["base_url"])' "$workdir/sim.json")
export CLERK_API_URL=$base CLERK_INCIDENT_FLEET=budget-bench
export CLERK_SECRET_KEY=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["env"]["CLERK_SECRET_KEY"])' "$workdir/sim.json")

run_three() {
  curl -s -X POST "$base/_sim/seed" -H 'content-type: application/json' \
    -d "{\"users\": $USERS, \"sessions\": $SESSIONS}" > /dev/null
  curl -s -X DELETE "$base/_sim/counters" > /dev/null
  local start end
  start=$(date +%s%N)
  local pids=()
  for i in 1 2 3; do
    # The sim's key is a development key: pace to the production limit, as sk_live_ would.
    "$bin" sessions revoke --all --yes --rate-limit 1000/10s "$@" > "$workdir/run$i.out" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid" || true; done
  [ -n "${SHOW:-}" ] && cat "$workdir"/run*.out >&2
  end=$(date +%s%N)
  curl -s "$base/_sim/counters" | python3 -c '
import json, sys
counters = json.load(sys.stdin)
seconds = int(sys.argv[1]) / 1e9
requests = sum(counters["requests"].values())
limited, revoked = counters["rate_limited"], counters["revocations"]
rate = requests / seconds
print(f"{requests} requests in {seconds:.1f} s: {rate:.1f}/s, {rate / 100:.3f} of the limit; "
      f"{limited} answered 429; {revoked} sessions revoked")
' "$((end - start))"
}

echo "three runs, each on its own pacer:          $(run_three)"
# The sim's sliding window still holds the first runs' last requests: let it empty.
sleep 11
echo "three runs on the fleet's shared budget:    $(run_three --redis "redis://127.0.0.1:$redis_port/0")"
