#!/usr/bin/env bash
# CI's own etcd (README, "CI"): starts Debian's etcd-server as a service
# on loopback, then the README's etcd deployment on it, as an operator
# would: three troupe_node processes naming it, checked with troupectl
# (members, a cluster-wide name, a virtual actor), then one node killed
# (down for the others once its lease expires) and its identity answered
# again elsewhere. Prints PASSED or FAILED for //ci:cluster_on_etcd.
# Usage: .ci/cluster_on_etcd.sh BAZEL_BIN
set -uo pipefail
bin="$1"
node_bin="$bin/node/troupe_node"
ctl_bin="$bin/sdk/troupectl"
dir="$(mktemp -d)"
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$dir"' EXIT
failures=0
fail() { echo "  FAIL: $*"; failures=$((failures + 1)); }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {  # DECISECONDS CMD...
  local limit="$1"; shift
  for ((t = 0; t < limit; t++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  return 1
}

client="127.0.0.1:$(free_port)"
peer="127.0.0.1:$(free_port)"
/usr/bin/etcd --name=ci --data-dir="$dir/etcd" --listen-client-urls="http://$client" \
  --advertise-client-urls="http://$client" --listen-peer-urls="http://$peer" \
  --initial-advertise-peer-urls="http://$peer" --initial-cluster="ci=http://$peer" \
  --log-level=error >"$dir/etcd.log" 2>&1 &
pids+=($!)
printf 'ci-secret\n' >"$dir/secret"
addrs=()
for i in 1 2 3; do
  a="127.0.0.1:$(free_port)"
  addrs+=("$a")
  "$node_bin" --listen="$a" --secret_file="$dir/secret" --cluster=ci \
    --etcd="$client" >"$dir/node$i.log" 2>&1 &
  pids+=($!)
done
ctl() { local on="$1"; shift; timeout 30 "$ctl_bin" --node="$on" --secret_file="$dir/secret" "$@"; }
up_count() { ctl "$1" members | grep -cE '^127\.0\.0\.1:[0-9]+ +up '; }
has_up() { [ "$(up_count "$1")" = "$2" ]; }
for a in "${addrs[@]}"; do
  wait_for 600 has_up "$a" 3 || fail "$a does not see 3 members up: $(ctl "$a" members 2>&1; tail -3 "$dir"/node*.log)"
done
c="$(ctl "${addrs[1]}" spawn counter c)" || fail "spawn"
ctl "${addrs[0]}" register ci-counter "$c" || fail "register"
[ "$(ctl "${addrs[2]}" lookup ci-counter)" = "$c" ] || fail "lookup of a cluster-wide name"
value() { ctl "$1" ask @counter:ci troupe.v1.CounterAdd '{"delta": 1}' | sed -nE 's/.*"value":"?([0-9]+)"?.*/\1/p'; }
[ "$(value "${addrs[0]}")" = 1 ] && [ "$(value "${addrs[2]}")" = 2 ] || fail "one activation of @counter:ci"
kill -9 "${pids[3]}"  # the third node
wait "${pids[3]}" 2>/dev/null
t0=$SECONDS
down() { ctl "${addrs[0]}" members | grep -qE "^${addrs[2]} +down "; }
wait_for 300 down || fail "the killed node is not down"
echo "  the killed node down after about $((SECONDS - t0)) s (its lease's TTL, 2 s)"
answered() { [ -n "$(value "${addrs[0]}")" ]; }
wait_for 300 answered || fail "@counter:ci never answered after the kill"

if [ "$failures" = 0 ]; then echo "//ci:cluster_on_etcd  PASSED"; else echo "//ci:cluster_on_etcd  FAILED"; exit 1; fi
