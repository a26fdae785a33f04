#!/usr/bin/env bash
# The custom node serves its own kind: spawned and asked with troupectl.
set -uo pipefail
out="$(examples/custom_node/custom_node 2>&1)"; rc=$?
echo "$out"
failures=0
check() { grep -qE -- "$1" <<<"$out" || { echo "FAIL: no line matching /$1/"; failures=$((failures + 1)); }; }
[ "$rc" = 0 ] || { echo "FAIL: exit code $rc"; failures=$((failures + 1)); }
check '^kinds: counter echo greeter kv topic $'
check '^troupe://127\.0\.0\.1:[0-9]+/g$'
check '"value":"Bonjour, Ada!"|"Bonjour, Ada!"'
[ "$failures" = 0 ] && echo "PASS" || exit 1
