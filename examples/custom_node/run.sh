#!/usr/bin/env bash
# Starts the custom node on a free port, spawns a greeter on it with
# troupectl, asks it to greet, and stops the node.
set -euo pipefail
root="${RUNFILES_DIR:-$0.runfiles}/troupe"
[ -d "$root" ] || root="$PWD"  # under bazel test, the runfiles root is here
source "$root/examples/start_node.sh"
node_bin="$root/examples/custom_node/greeter_node"
start_node "$node_bin"
ctl="$root/sdk/troupectl"
echo "kinds: $("$node_bin" --help 2>&1 | sed -n 's/^  \([a-z]*\): .*/\1/p' | tr '\n' ' ')"
run() { echo "\$ troupectl $*"; "$ctl" --node="$node_addr" "$@"; }
run spawn greeter g --init_type=google.protobuf.StringValue --init='"Bonjour"'
run ask "troupe://$node_addr/g" google.protobuf.StringValue '"Ada"'
