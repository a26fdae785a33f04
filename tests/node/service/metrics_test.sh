#!/usr/bin/env bash
# troupe_node --metrics_listen as an operator uses it: Debian's Prometheus
# (started here on loopback with a generated config) scrapes a real node,
# and its query API shows a counter moving after traffic; promtool checks
# the exposition; a non-loopback bind without a secret is refused. Every
# wait is bounded and waits for a definite state, not for time.
set -uo pipefail
node="$1"
ctl="$2"
source "${TEST_SRCDIR:-}/troupe/tests/testing/sh_lib.sh" ||
  { echo "FAIL: cannot read tests/testing/sh_lib.sh (data: //tests/testing:sh_lib)"; exit 1; }

for tool in prometheus promtool ss python3; do
  command -v "$tool" >/dev/null ||
    die "$tool is not installed (bazel/bootstrap.sh installs it)"
done

# GET $1; prints the body; fails (status 1) on anything but 200.
get() {
  python3 - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
        sys.stdout.write(r.read().decode())
except Exception as e:
    sys.stderr.write(f"{sys.argv[1]}: {e}\n"); sys.exit(1)
PY
}

# --- The node, with metrics on an ephemeral port. ---
start_node "$node" "$dir/node.out" --metrics_listen=127.0.0.1:0
address="$addr"
# The metrics line comes after the ready line (node_main.cc).
has_metrics() { grep -q "^troupe node metrics on " "$dir/node.out"; }
wait_for 10 has_metrics || die "no metrics line: $(cat "$dir/node.out")"
metrics=$(sed -n 's|^troupe node metrics on http://\([^/]*\)/metrics$|\1|p' "$dir/node.out")
[ -n "$address" ] && [ -n "$metrics" ] || die "cannot read the addresses: $(cat "$dir/node.out")"

"$ctl" --node="$address" spawn counter c1 >/dev/null || die "spawn failed"
get "http://$metrics/metrics" >"$dir/scrape.txt" || die "no /metrics"
promtool check metrics <"$dir/scrape.txt" >"$dir/promtool.out" 2>&1 ||
  fail "promtool check metrics: $(cat "$dir/promtool.out")"
for name in troupe_node_info troupe_actors_alive troupe_actors_spawned_total \
    troupe_messages_processed_total troupe_message_handling_seconds \
    troupe_mailbox_overflows_total troupe_dead_letters_total \
    troupe_asks_in_flight troupe_ask_duration_seconds troupe_link_state \
    troupe_link_messages_sent_total troupe_link_bytes_received_total \
    troupe_link_downs_total troupe_link_allowed_silence_seconds \
    troupe_rpc_calls_total troupe_heap_bytes; do
  grep -q "^# HELP $name " "$dir/scrape.txt" || fail "no HELP for $name"
done
grep -q '^troupe_actors_alive{kind="counter"} 1$' "$dir/scrape.txt" ||
  fail "the spawned counter is not counted: $(grep troupe_actors_alive "$dir/scrape.txt")"
"$ctl" --node="$address" spawn counter c1 >/dev/null 2>&1  # taken: ALREADY_EXISTS
get "http://$metrics/metrics" >"$dir/scrape2.txt" || die "no /metrics"
grep -qE '^troupe_rpc_calls_total\{method="/troupe.v1.ActorService/Spawn",code="OK"\} 1$' "$dir/scrape2.txt" ||
  fail "the Spawn call is not counted: $(grep troupe_rpc_calls_total "$dir/scrape2.txt")"
grep -qE '^troupe_rpc_calls_total\{method="/troupe.v1.ActorService/Spawn",code="ALREADY_EXISTS"\} 1$' "$dir/scrape2.txt" ||
  fail "the refused Spawn is not counted: $(grep troupe_rpc_calls_total "$dir/scrape2.txt")"

# --- Prometheus, scraping it every second. ---
cat >"$dir/prometheus.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: troupe
    static_configs:
      - targets: ['$metrics']
YML
promtool check config "$dir/prometheus.yml" >/dev/null 2>&1 ||
  fail "promtool check config"
prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
  --web.listen-address=127.0.0.1:0 >"$dir/prometheus.out" 2>&1 &
prom_pid=$!
pids+=($prom_pid)
prom_port() {
  port=$(ss -Hltnp 2>/dev/null | grep "pid=$prom_pid," |
           sed -n 's/.*127\.0\.0\.1:\([0-9]*\) .*/\1/p' | head -1)
  [ -n "$port" ]
}
wait_for 30 prom_port || die "Prometheus is not listening: $(tail -5 "$dir/prometheus.out")"
prom="127.0.0.1:$port"
ready() { get "http://$prom/-/ready" >/dev/null 2>&1; }
wait_for 30 ready || die "Prometheus not ready: $(tail -5 "$dir/prometheus.out")"

# The value of an instant query (one series), or nothing.
query() {
  get "http://$prom/api/v1/query?query=$1" 2>/dev/null | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")'
}
q='troupe_messages_processed_total%7Bkind%3D%22counter%22%7D'
scraped() { before=$(query "$q"); [ -n "$before" ]; }
wait_for 30 scraped || die "Prometheus never scraped the node (targets: $(get "http://$prom/api/v1/targets"))"

for i in $(seq 1 25); do
  "$ctl" --node="$address" tell "troupe://$address/c1" troupe.v1.CounterAdd '{"delta": 1}' >/dev/null ||
    fail "tell $i"
done
moved() {
  after=$(query "$q")
  [ -n "$after" ] && python3 -c "import sys; sys.exit(0 if float('$after') >= float('$before') + 25 else 1)"
}
wait_for 30 moved || fail "the counter did not move by 25 in Prometheus: $before -> ${after:-none}"
echo "Prometheus saw troupe_messages_processed_total{kind=\"counter\"} go $before -> $after"

up=$(query 'up%7Bjob%3D%22troupe%22%7D')
[ "$up" = 1 ] || fail "up{job=troupe} is '$up'"

# --- The bind rule: non-loopback needs the cluster secret. ---
out=$("$node" --listen=127.0.0.1:0 --metrics_listen=0.0.0.0:0 --run_for=5s 2>&1)
rc=$?
[ "$rc" = 2 ] || fail "a non-loopback metrics bind without a secret exited $rc"
grep -q "refusing to serve metrics on 0.0.0.0:0 without a cluster secret" <<<"$out" ||
  fail "no clear refusal: $out"

finish
