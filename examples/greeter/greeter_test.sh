#!/usr/bin/env bash
# The greeter answers from node B: "Hello World!", and the name is used.
set -uo pipefail
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out="$(timeout 60 "$bin" 2>&1)"; rc=$?
[ "$rc" = 0 ] || fail "exit $rc: $out"
[ "$(tail -1 <<<"$out")" = "Hello World!" ] || fail "last line: $out"
line="$(grep '^node A' <<<"$out")"
a="$(sed -nE 's/^node A \(([^)]+)\) asks the Greeter on node B: troupe:\/\/([^/]+)\/Greeter$/\1/p' <<<"$line")"
b="$(sed -nE 's/^node A \(([^)]+)\) asks the Greeter on node B: troupe:\/\/([^/]+)\/Greeter$/\2/p' <<<"$line")"
[ -n "$a" ] && [ -n "$b" ] && [ "$a" != "$b" ] || fail "the Greeter is not on another node: $line"

out="$(timeout 60 "$bin" --name=Ada 2>&1)"; rc=$?
[ "$rc" = 0 ] && [ "$(tail -1 <<<"$out")" = "Hello Ada!" ] || fail "--name=Ada: $out"

[ "$failures" = 0 ] && echo "PASS" || exit 1
