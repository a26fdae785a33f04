#!/usr/bin/env bash
# Runs the Python client against a real node process and checks what it
# printed: each step's observable result.
set -uo pipefail
out="$(examples/python_client/python_client 2>&1)"; rc=$?
echo "$out"
failures=0
check() { grep -qE -- "$1" <<<"$out" || { echo "FAIL: no line matching /$1/"; failures=$((failures + 1)); }; }
[ "$rc" = 0 ] || { echo "FAIL: exit code $rc"; failures=$((failures + 1)); }
check '^spawned counter troupe://127\.0\.0\.1:[0-9]+/py-counter$'
check '^counter value: 15$'
check '^inbox troupe://127\.0\.0\.1:[0-9]+/\$client[0-9a-z]+-[0-9a-z]+$'
check "^inbox received 'hello from Python' from troupe://127\.0\.0\.1:[0-9]+/py-echo$"
check '^terminated troupe://127\.0\.0\.1:[0-9]+/py-counter STOPPED$'
check '^typed counter visits: 2$'
check '^spawn of an unknown kind: NOT_FOUND: .*known kinds: counter, echo, kv, topic'
[ "$failures" = 0 ] && echo "PASS" || exit 1
