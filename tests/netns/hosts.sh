# hosts.sh: what the multi-host tests share (sourced; needs node_bin,
# ctl_bin). Makes hosts 1, 2, 3 and 9 (etcd's), each a network namespace
# with the address 10.201.<i>.2, routed through a router namespace <p>r
# where faults are made (../shared/notes/multi-host-testing.md); removes
# them, and every process started, on exit. Root only.
etcd_bin=/usr/bin/etcd

[ "$(id -u)" = 0 ] || { echo "FAIL: must run as root: it creates network namespaces"; exit 1; }
for tool in ip iptables "$etcd_bin"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (bazel/bootstrap.sh installs it)"; exit 1; }
done

p="tr$$"  # unique per run: parallel runs cannot collide
dir="$(mktemp -d)"
declare -A pids=()
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  wait 2>/dev/null
  for ns in "${p}r" "${p}h1" "${p}h2" "${p}h3" "${p}h9"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$dir"
}
trap cleanup EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# --- Hosts: 10.201.<i>.2 on host i, routed through <p>r -----------------
ip netns add "${p}r"
ip -n "${p}r" link set lo up
ip netns exec "${p}r" sysctl -qw net.ipv4.ip_forward=1
for i in 1 2 3 9; do
  ns="${p}h$i"
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip link add "${p}a$i" type veth peer name "${p}b$i"
  ip link set "${p}a$i" netns "$ns"
  ip link set "${p}b$i" netns "${p}r"
  ip -n "$ns" addr add "10.201.$i.2/24" dev "${p}a$i"
  ip -n "$ns" link set "${p}a$i" up
  ip -n "$ns" route add default via "10.201.$i.1"
  ip -n "${p}r" addr add "10.201.$i.1/24" dev "${p}b$i"
  ip -n "${p}r" link set "${p}b$i" up
  if command -v ethtool >/dev/null; then  # faults act per packet
    ip netns exec "$ns" ethtool -K "${p}a$i" tso off gso off gro off 2>/dev/null
    ip netns exec "${p}r" ethtool -K "${p}b$i" tso off gso off gro off 2>/dev/null
  fi
done
printf 'multihost-secret\n' >"$dir/secret"
addr() { echo "10.201.$1.2:7420"; }

# wait_for DECISECONDS WHAT CMD...: until CMD succeeds; false (and says
# what) after the time.
wait_for() {
  local limit="$1" what="$2"; shift 2
  for ((t = 0; t < limit; t++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "  (waited $((limit / 10)) s for: $what)"
  return 1
}

# start_node I FLAGS...: troupe_node on host I, its output in node<I>.log.
start_node() {
  local i="$1"; shift
  : >"$dir/node$i.log"
  ip netns exec "${p}h$i" "$node_bin" --listen="$(addr "$i")" \
    --secret_file="$dir/secret" "$@" >>"$dir/node$i.log" 2>&1 &
  pids[node$i]=$!
  wait_for 300 "node $i to start" grep -q "^troupe node listening" "$dir/node$i.log" \
    || fail "node $i did not start: $(tail -3 "$dir/node$i.log")"
}
kill_node() { kill -9 "${pids[node$1]}" 2>/dev/null; wait "${pids[node$1]}" 2>/dev/null; }

# ctl I ARGS...: troupectl inside host I against its node; a call that
# hangs past 30 s exits 124.
ctl() {
  local i="$1"; shift
  ip netns exec "${p}h$i" timeout 30 "$ctl_bin" --node="$(addr "$i")" \
    --secret_file="$dir/secret" "$@"
}
# state I J: host J's state in host I's member list ("" if absent).
state() { ctl "$1" members 2>/dev/null | awk -v a="$(addr "$2")" '$1 == a {print $2}'; }
is_state() { [ "$(state "$1" "$2")" = "$3" ]; }
up_count() { ctl "$1" members 2>/dev/null | grep -cE '^10\.201\.[0-9]+\.2:7420 +up '; }
has_up() { [ "$(up_count "$1")" = "$2" ]; }
# count I KEY [TIMEOUT]: one CounterAdd of 1 to the identity counter:KEY
# through I; the count, or nothing.
count() {
  ctl "$1" ask "@counter:$2" troupe.v1.CounterAdd '{"delta": 1}' \
    --timeout="${3:-5s}" 2>/dev/null |
    sed -nE 's/.*"value":"?([0-9]+)"?.*/\1/p'
}
# A fault in the router: iptables rules are added with -I and removed with
# the same arguments and -D.
fw() { ip netns exec "${p}r" iptables "$@"; }
isolate() { fw "$1" FORWARD -s "10.201.$2.0/24" -j DROP && fw "$1" FORWARD -d "10.201.$2.0/24" -j DROP; }

all_see_up() {
  local n="$1"; shift
  for i in "$@"; do
    wait_for 300 "host $i to see $n members up" has_up "$i" "$n" || fail "host $i does not see $n members up: $(ctl "$i" members 2>&1)"
  done
}

