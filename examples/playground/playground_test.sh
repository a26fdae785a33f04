#!/usr/bin/env bash
# The playground's story, checked line by line: two nodes, the match
# alternates ping!/pong! between Mike and Sarah, someone says bye!, both
# leave, the teacher counts them and goes back; the program exits 0.
set -uo pipefail
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

for seed in 1 2 3 4 5; do
  out="$(timeout 60 "$bin" --delay=20ms --bye=0.3 --seed="$seed" 2>&1)"; rc=$?
  [ "$rc" = 0 ] || fail "seed $seed: exit $rc: $out"
  # Drop the timestamps.
  lines="$(sed -E 's/^\[[0-9:.]+\] //' <<<"$out")"
  [ "$(head -1 <<<"$lines")" = "Teacher: it's playtime!" ] || fail "seed $seed: first line: $lines"
  [ "$(tail -1 <<<"$lines")" = "Teacher: time to go back." ] || fail "seed $seed: last line: $lines"
  grep -qE '^Teacher: Mike is on node A \(127\.0\.0\.1:([0-9]+)\), Sarah on node B \(127\.0\.0\.1:([0-9]+)\)$' <<<"$lines" \
    || fail "seed $seed: nodes line: $lines"
  a="$(sed -nE 's/^Teacher: Mike is on node A \(([^)]+)\), Sarah on node B \(([^)]+)\)$/\1/p' <<<"$lines")"
  b="$(sed -nE 's/^Teacher: Mike is on node A \(([^)]+)\), Sarah on node B \(([^)]+)\)$/\2/p' <<<"$lines")"
  [ -n "$a" ] && [ "$a" != "$b" ] || fail "seed $seed: Mike and Sarah on one node: $a $b"
  grep -qx 'Teacher to Mike: Play(student=Sarah)' <<<"$lines" || fail "seed $seed: no Play"
  # The match: speakers alternate, starting with Mike's ping!; the balls
  # alternate ping!/pong!; it ends with one bye!.
  chat="$(grep -E '^(Mike|Sarah) to (Mike|Sarah): ' <<<"$lines")"
  expected_from=Mike expected_ball="ping!" n=0 byes=0
  while IFS= read -r line; do
    n=$((n + 1))
    from="${line%% to *}"; text="${line##*: }"
    [ "$from" = "$expected_from" ] || fail "seed $seed: line $n from $from, expected $expected_from"
    if [ "$text" = "bye!" ]; then
      byes=$((byes + 1))
    else
      [ "$text" = "$expected_ball" ] || fail "seed $seed: line $n says $text, expected $expected_ball"
    fi
    if [ "$expected_from" = Mike ]; then expected_from=Sarah; else expected_from=Mike; fi
    if [ "$expected_ball" = "ping!" ]; then expected_ball="pong!"; else expected_ball="ping!"; fi
  done <<<"$chat"
  [ "$byes" = 1 ] || fail "seed $seed: $byes bye! lines"
  [ "$(tail -1 <<<"$chat" | sed 's/.*: //')" = "bye!" ] || fail "seed $seed: the match does not end with bye!"
  grep -qx 'Teacher: Mike has left (STOPPED)' <<<"$lines" || fail "seed $seed: Mike did not leave"
  grep -qx 'Teacher: Sarah has left (STOPPED)' <<<"$lines" || fail "seed $seed: Sarah did not leave"
done

# --help explains the example.
help="$("$bin" --help 2>&1)"
grep -q "ping-pong" <<<"$help" || fail "--help: $help"

[ "$failures" = 0 ] && echo "PASS" || exit 1
