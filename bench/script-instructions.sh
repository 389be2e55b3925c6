#!/usr/bin/env bash
# Instructions redis-server executes per create/start/complete transition, counted by callgrind: unlike the
# benchmark's µs, the same for the same scripts whatever else the machine is doing, so one script change can be
# judged on a busy machine. Runs the benchmark's "Script cost" section (--only script-cost --quick) against a
# redis-server under valgrind; each phase is counted alone (callgrind_control zeroes before it and dumps after).
# Usage: bash bench/script-instructions.sh [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in valgrind callgrind_control callgrind_annotate redis-server redis-cli; do
  command -v "$tool" >/dev/null || { echo "script-instructions: '$tool' is needed (Debian: valgrind, redis-server)." >&2; exit 2; }
done
[ "${1:-}" = "--no-build" ] || dotnet build bench/MageFlow.Benchmarks -c Release -v q -nologo >/dev/null
work=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --callgrind-out-file="$work/cg.%p" redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
server=$!
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 150); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done
MAGEFLOW_BENCH_CALLGRIND_PID=$server dotnet run -c Release --no-build --project bench/MageFlow.Benchmarks -- \
  --only script-cost --quick --redis "127.0.0.1:$port" --out "$work/out" >"$work/bench.log" 2>&1 \
  || { cat "$work/bench.log" >&2; exit 1; }
# Dumps 1-3 are the warm-up's create/start/complete, then three measured runs: the last run's are 10, 11, 12.
for phase in "10 create 2000" "11 start 1000" "12 complete 1000"; do
  set -- $phase
  total=$(callgrind_annotate "$work/cg.$server.$1" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
  printf '%-9s %8d instructions per operation\n' "$2" $((total / $3))
done
