#!/usr/bin/env bash
# Runs the example and checks each client's replies: two greetings by the
# same key reach one actor (counts 1, 2), the stream continues its count
# (3, 4, 5), every greeter lives on node B, and an empty name comes back as
# INVALID_ARGUMENT with the actor's message.
set -uo pipefail
root="${RUNFILES_DIR:-$0.runfiles}/troupe"
[ -d "$root" ] || root="$PWD"
out="$("$root/examples/typed_greeter/typed_greeter" 2>&1)"
rc=$?
echo "$out"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ "$rc" = 0 ] || fail "the example exited $rc"
b="$(sed -nE 's/^calling node A .*greeters live on node B \(([^)]+)\)$/\1/p' <<<"$out")"
[ -n "$b" ] || fail "no node B in the output"
for who in "c\+\+" python node.js; do
  grep -qE "^$who: Hello, Ada! \(from troupe://$b/[^ ]+, greeting 1\)$" <<<"$out" ||
    fail "$who: no first greeting from a greeter on node B"
  grep -qE "^$who: Hello, Grace! \(from troupe://$b/[^ ]+, greeting 2\)$" <<<"$out" ||
    fail "$who: the second greeting did not reach the same greeter"
  grep -qE "^$who: empty name: .*INVALID_ARGUMENT.*whom should I greet" <<<"$out" ||
    fail "$who: the actor's error did not come back"
done
for who in python node.js; do
  for n in 3 4 5; do
    grep -qE "^$who stream: Hello, Linus! \(greeting $n\)$" <<<"$out" ||
      fail "$who: stream item $n missing"
  done
done
[ "$failures" = 0 ] && echo "PASS" || exit 1
