#!/usr/bin/env bash
# Runs every test project of MageFlow.sln and prints one closing line: "N passed, N failed, N skipped".
# Installs what the tests need first when it is missing: redis-server (the Redis tests start their own server on a
# free loopback port, so nothing else needs to be running) and Debian's chromium + chromium-driver (the dashboard's
# browser tests drive them headless; nothing is downloaded at run time). Extra arguments go to `dotnet test`
# (e.g. --no-build).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "${missing[*]} not found: installing from Debian packages"
  sudo_cmd=""
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd="sudo"; fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
redis-server --version
chromium --version 2>/dev/null

results="TestResults/run-$(date +%s)"
rm -rf "$results"
status=0
dotnet test MageFlow.sln -c Release --logger "trx" --results-directory "$results" "$@" || status=$?

passed=0; failed=0; skipped=0; total=0
shopt -s nullglob
for trx in "$results"/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { echo "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(value total)))
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
  skipped=$((skipped + $(value notExecuted)))
done

if [ "$total" -eq 0 ]; then
  echo "No tests ran (dotnet test exit code $status)." >&2
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then exit 1; fi
