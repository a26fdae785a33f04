# Sourced by the examples' run scripts: starts node processes on free ports
# and stops them (SIGTERM, then waits) when the script exits.
#
#   source "$root/examples/start_node.sh"
#   start_node "$root/node/troupe_node" [flags...]   # sets $node_addr
#
# Each node's output after its ready line is kept in $node_log.

_nodes=()
_node_dir="$(mktemp -d)"
_stop_nodes() {
  local pid
  for pid in "${_nodes[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${_nodes[@]}"; do wait "$pid" 2>/dev/null; done
  rm -rf "$_node_dir"
}
trap _stop_nodes EXIT

start_node() {
  local bin="$1"; shift
  local out="$_node_dir/out.${#_nodes[@]}"
  node_log="$_node_dir/log.${#_nodes[@]}"
  mkfifo "$out"
  "$bin" --listen=127.0.0.1:0 "$@" >"$out" 2>&1 &
  _nodes+=($!)
  local fd ready=""
  exec {fd}<"$out"
  # Log lines (stderr) may come before the ready line.
  local deadline=$((SECONDS + 30))
  while [[ "$ready" != "troupe node listening on "* ]]; do
    if [ "$SECONDS" -ge "$deadline" ] || ! read -r -t 30 -u "$fd" ready; then
      echo "$(basename "$bin") did not start within 30 s" >&2
      exit 1
    fi
  done
  cat <&"$fd" >"$node_log" &  # drain its log
  node_addr="$(sed -E 's/^troupe node listening on ([^ ]+) .*/\1/' <<<"$ready")"
  echo "node: $ready"
}
