#!/usr/bin/env bash
# Three visits to each page reach one activation (counts 1, 2, 3 on one
# member) whichever member they come from; after the kill of the member
# that runs a page, that page answers from another member as a new
# activation, and the pages of surviving members go on counting (4).
set -uo pipefail
bin="$1"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

out="$(timeout 120 "$bin" --pages=5 2>&1)"; rc=$?
[ "$rc" = 0 ] || fail "exit $rc"
echo "$out"

grep -qE '^cluster of 3 members: A ' <<<"$out" || fail "no cluster"
first="$(sed -n '/^three visits/,/^$/p' <<<"$out" | grep -E '^  page:')"
[ "$(wc -l <<<"$first")" = 15 ] || fail "$(wc -l <<<"$first") visits, expected 15"
for page in home about blog shop faq; do
  counts="$(grep -E "^  page:$page " <<<"$first" | sed -nE 's/.*visit ([0-9]+),.*/\1/p' | tr '\n' ' ')"
  [ "$counts" = "1 2 3 " ] || fail "page $page counted '$counts'"
  where="$(grep -E "^  page:$page " <<<"$first" | sed -nE 's/.*counted on (.)$/\1/p' | sort -u)"
  [ "$(wc -l <<<"$where")" = 1 ] || fail "page $page counted on more than one member: $where"
  froms="$(grep -E "^  page:$page " <<<"$first" | sed -nE 's/.* from (.) .*/\1/p' | sort -u | tr -d '\n')"
  [ "$froms" = ABC ] || fail "page $page not visited from A, B and C: $froms"
done

kill_line="$(grep -E 'kill -9 of node [BC], which runs page:' <<<"$out")"
[ -n "$kill_line" ] || fail "no node was killed"
killed="$(sed -nE 's/.*node ([BC]),.*/\1/p' <<<"$kill_line")"
page="${kill_line##*page:}"
back="$(grep -E "page:$page from A -> visit 1, counted on [ABC]: a new activation" <<<"$out")"
[ -n "$back" ] || fail "page $page did not come back as a new activation"
grep -qE "counted on $killed: a new" <<<"$back" && fail "page $page came back on the killed node"

last="$(sed -n '/^one more visit/,$p' <<<"$out" | grep -E '^  page:')"
[ "$(wc -l <<<"$last")" = 5 ] || fail "$(wc -l <<<"$last") last visits, expected 5"
for p in home about blog shop faq; do
  ran_on="$(grep -E "^  page:$p " <<<"$first" | head -1 | sed -nE 's/.*counted on (.)$/\1/p')"
  count="$(grep -E "^  page:$p " <<<"$last" | sed -nE 's/.*visit ([0-9]+),.*/\1/p')"
  if [ "$p" = "$page" ]; then
    [ "$count" = 2 ] || fail "page $p: visit $count after coming back, expected 2"
  elif [ "$ran_on" = "$killed" ]; then
    [ "$count" = 1 ] || fail "page $p (on the killed node): visit $count, expected 1"
  else
    [ "$count" = 4 ] || fail "page $p (on a surviving node): visit $count, expected 4"
  fi
done

[ "$failures" = 0 ] && echo "PASS" || { echo "$failures failure(s)"; exit 1; }
