#!/usr/bin/env bash
# Starts two greeter_nodes, A and B, on free ports, and greets Greeter
# actors living on B through A: from C++ (the SDK's typed ref), from Python
# and from Node.js (stock gRPC stubs of greeter.proto, nothing of troupe's).
set -euo pipefail
root="${RUNFILES_DIR:-$0.runfiles}/troupe"
[ -d "$root" ] || root="$PWD"  # under bazel test, the runfiles root is here
source "$root/examples/start_node.sh"
here="$root/examples/typed_greeter"
start_node "$here/greeter_node"
a="$node_addr"
start_node "$here/greeter_node"
b="$node_addr"
echo "calling node A ($a); the greeters live on node B ($b)"
"$here/client" --node="$a" --on="$b"
PYTHONPATH="$here" /usr/bin/python3 "$here/client.py" --node="$a" --on="$b" --key=py
if [ ! -d "$here/node_modules/@grpc/grpc-js" ]; then
  echo "node.js: @grpc/grpc-js is not installed: run bazel/bootstrap.sh (npm ci in examples/typed_greeter)" >&2
  exit 1
fi
node "$here/client.js" --node="$a" --on="$b" --key=js
