#!/usr/bin/env bash
# Middleware overhead under load, on loopback: GET /api/me with a valid token (behind the auth
# middleware) against the same handler without it (/baseline/me), same server, warm token
# cache. One bench server per adapter (the examples `axum_bench_server` and
# `actix_bench_server`), loaded with wrk; the figures and how to read them are in
# docs/benchmarks.md.
#
#   bash benches/middleware.sh
#
# Each round loads both routes back to back (which one goes first alternates), with the same
# request bytes (the Authorization header is sent to both). A round is kept only when, during
# both of its runs, tasks waited for a CPU at most NOISE_LIMIT % of the time (the kernel's CPU
# pressure, /proc/pressure/cpu: near 0 when the server and wrk have a core each, high when
# other processes compete for them). The figures are the medians of the kept rounds; on a
# shared machine, rounds are repeated up to MAX_ROUNDS times.
#
# Environment, with defaults: ROUNDS=5 kept rounds wanted, MAX_ROUNDS=12, DURATION=5s per wrk
# run, CONNECTIONS=32, WARMUP=3s per route, NOISE_LIMIT=5, PIN=1 (the server on CPU 0 and
# wrk on CPU 1 with taskset, when there are two CPUs or more). BIN_DIR=DIR runs the
# `*_bench_server` binaries found in DIR instead of building them, to compare a patched build.
# FLEET=1 adds a third server, `fleet`: the axum server with its policy in a fleet on a private
# redis-server (heartbeats and pushes in the background), to compare with `axum`.
# SERVERS="axum fleet" runs only those (default: axum actix, and fleet with FLEET=1).
#
# Traffic goes to 127.0.0.1 only, and every wrk run is bounded by its duration (and by
# `timeout`): about 2 minutes on a quiet machine, 4.5 at most, plus the release builds.
# Exit status: 0 after a run, whether or not the goal is met (read the table); 1 when a server
# does not start, or a wrk run fails or sees non-2xx responses; 2 when wrk is missing.
set -euo pipefail
# Failures inside $(...) stop the script too: `load` runs in one.
shopt -s inherit_errexit

ROUNDS=${ROUNDS:-5}
MAX_ROUNDS=${MAX_ROUNDS:-12}
DURATION=${DURATION:-5s}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=${WARMUP:-3s}
NOISE_LIMIT=${NOISE_LIMIT:-5}
PIN=${PIN:-1}
FLEET=${FLEET:-0}
GOAL=0.90

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed. On Debian or Ubuntu: apt-get update && apt-get install -y wrk" >&2
    exit 2
fi

if [[ -n ${BIN_DIR:-} ]]; then
    BIN_DIR=$(cd "$BIN_DIR" && pwd)
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [[ -n ${BIN_DIR:-} ]]; then
    bin_dir=$BIN_DIR
else
    bin_dir=${CARGO_TARGET_DIR:-target}/release/examples
    cargo build --release -p clerk-incident-axum --example axum_bench_server
    cargo build --release -p clerk-incident-actix --example actix_bench_server
    if [[ $FLEET == 1 ]]; then
        cargo build --release -p clerk-incident-redis --example fleet_bench_server
    fi
fi

work=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

cpus=$(nproc)
server_cpu=()
load_cpu=()
if [[ $PIN == 1 ]] && command -v taskset >/dev/null 2>&1 && ((cpus >= 2)); then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
fi

# start_server NAME BINARY: starts it, waits for its READY line; sets server_pid, url, token.
start_server() {
    local name=$1 binary=$2 line=
    "${server_cpu[@]}" "$binary" >"$work/$name.out" 2>"$work/$name.err" &
    server_pid=$!
    pids+=("$server_pid")
    for _ in $(seq 100); do
        line=$(grep -m1 '^READY ' "$work/$name.out" || true)
        [[ -n $line ]] && break
        if ! kill -0 "$server_pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [[ -z $line ]]; then
        echo "error: the $name bench server did not start; its stderr:" >&2
        cat "$work/$name.err" >&2
        exit 1
    fi
    read -r _ url token <<<"$line"
}

# cpu_stall: microseconds during which some task waited for a CPU, since boot (empty when the
# kernel has no pressure stall information).
cpu_stall() {
    local total=
    if [[ -r /proc/pressure/cpu ]]; then
        read -r _ _ _ _ total </proc/pressure/cpu
    fi
    echo "${total#total=}"
}

# load PATH DURATION: one wrk run. Prints its requests/sec and the share of the run (%) during
# which tasks waited for a CPU ("-" when unknown). Fails on errors or non-2xx responses.
load() {
    local path=$1 duration=$2 out stall0 stall1 start end
    stall0=$(cpu_stall)
    start=$EPOCHREALTIME
    out=$(timeout 120 "${load_cpu[@]}" wrk -t1 -c"$CONNECTIONS" -d"$duration" --timeout 2s \
        -H "Authorization: Bearer $token" "$url$path")
    end=$EPOCHREALTIME
    stall1=$(cpu_stall)
    if grep -qE 'Non-2xx|Socket errors' <<<"$out"; then
        echo "error: wrk saw failures on $url$path:" >&2
        echo "$out" >&2
        exit 1
    fi
    local rate
    rate=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")
    if [[ -z $rate ]]; then
        echo "error: no Requests/sec in wrk's output for $url$path:" >&2
        echo "$out" >&2
        exit 1
    fi
    awk -v rate="$rate" -v s0="$stall0" -v s1="$stall1" -v t0="$start" -v t1="$end" 'BEGIN {
        if (s0 == "" || s1 == "") print rate, "-"
        else printf "%s %.1f\n", rate, (s1 - s0) / 1e4 / (t1 - t0)
    }'
}

median() {
    sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "machine: $cpus CPUs, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "toolchain: $(rustc --version); $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t1 -c$CONNECTIONS -d$DURATION; $ROUNDS rounds kept with CPU stall <= $NOISE_LIMIT%, $MAX_ROUNDS at most${server_cpu:+; server on CPU 0, wrk on CPU 1}"
if [[ -z $(cpu_stall) ]]; then
    echo "warning: no /proc/pressure/cpu: other processes' interference is not measured; every round is kept" >&2
fi

read -r -a servers <<<"${SERVERS:-axum actix}"
if [[ $FLEET == 1 ]]; then
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "FLEET=1 needs redis-server: apt-get install -y redis-server" >&2
        exit 2
    fi
    redis_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$work" --save "" --appendonly no \
        --daemonize no >"$work/redis.log" 2>&1 &
    pids+=("$!")
    for _ in $(seq 100); do
        redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    export BENCH_REDIS_URL="redis://127.0.0.1:$redis_port/0"
    if [[ -z ${SERVERS:-} ]]; then
        servers+=(fleet)
    fi
fi

results=()
for adapter in "${servers[@]}"; do
    start_server "$adapter" "$bin_dir/${adapter}_bench_server"
    # Warm-up: connections, allocator, and the token cache (the first /api/me verifies the
    # token's signature; every later one is a cache hit).
    load /baseline/me "$WARMUP" >/dev/null
    load /api/me "$WARMUP" >/dev/null
    baseline=() layered=() all_baseline=() all_layered=()
    round=0
    while ((${#baseline[@]} < ROUNDS && round < MAX_ROUNDS)); do
        round=$((round + 1))
        # Alternate which route goes first, so that drift hits both alike.
        if ((round % 2)); then
            base=$(load /baseline/me "$DURATION")
            layer=$(load /api/me "$DURATION")
        else
            layer=$(load /api/me "$DURATION")
            base=$(load /baseline/me "$DURATION")
        fi
        read -r base_rate base_noise <<<"$base"
        read -r layer_rate layer_noise <<<"$layer"
        noise=$(awk -v a="$base_noise" -v b="$layer_noise" 'BEGIN { print (a == "-" || b == "-") ? "-" : (a > b) ? a : b }')
        all_baseline+=("$base_rate")
        all_layered+=("$layer_rate")
        if [[ $noise == - ]] || awk -v n="$noise" -v l="$NOISE_LIMIT" 'BEGIN { exit !(n <= l) }'; then
            baseline+=("$base_rate")
            layered+=("$layer_rate")
            verdict=kept
        else
            verdict=discarded
        fi
        printf '%s round %d: baseline %.0f req/s, with middleware %.0f req/s, ratio %.3f; CPU stall %s%%: %s\n' \
            "$adapter" "$round" "$base_rate" "$layer_rate" "$(awk -v b="$base_rate" -v l="$layer_rate" 'BEGIN { print l / b }')" \
            "$noise" "$verdict"
    done
    kept=${#baseline[@]}
    if ((kept == 0)); then
        echo "warning: every $adapter round was disturbed by other processes; the figures below use them all" >&2
        baseline=("${all_baseline[@]}")
        layered=("${all_layered[@]}")
    fi
    base_median=$(printf '%s\n' "${baseline[@]}" | median)
    layer_median=$(printf '%s\n' "${layered[@]}" | median)
    results+=("$adapter $base_median $layer_median $kept/$round")
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
done

echo
printf '%-8s %16s %18s %7s %12s  %s\n' adapter "baseline req/s" "with layer req/s" ratio "rounds kept" "goal >= $GOAL"
for row in "${results[@]}"; do
    read -r adapter base layer kept <<<"$row"
    awk -v a="$adapter" -v b="$base" -v l="$layer" -v k="$kept" -v g="$GOAL" 'BEGIN {
        r = l / b
        verdict = (k ~ /^0\//) ? "unknown (every round disturbed)" : (r >= g) ? "met" : "MISSED"
        printf "%-8s %16.0f %18.0f %7.3f %12s  %s\n", a, b, l, r, k, verdict
    }'
done
