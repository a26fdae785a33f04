#!/usr/bin/env bash
# Installs the Debian packages troupe's build, tests and examples need, if any
# are missing. Idempotent: on a ready machine it checks with dpkg and exits at
# once. Needs root (or sudo) only when something must be installed.
set -euo pipefail

packages=(
  bazel-bootstrap         # Bazel 4.2.3, the build tool (no bazelisk offline)
  bazel-platforms         # @platforms, which Bazel would otherwise download
  g++                     # C++17 compiler (gcc 12), with ASan/UBSan/TSan runtimes
  pkg-config              # bazel/host_libs.bzl locates libraries through it
  protobuf-compiler       # protoc
  protobuf-compiler-grpc  # grpc_cpp_plugin
  libprotobuf-dev         # protobuf runtime and well-known types
  libprotoc-dev           # protoc's plugin API: protoc-gen-troupe
  libgrpc++-dev           # gRPC C++ (callback API, server reflection)
  libabsl-dev             # Abseil: Status, Mutex, flags, containers
  libgtest-dev            # GoogleTest
  libgmock-dev            # GoogleMock
  libbenchmark-dev        # Google Benchmark, for tests/bench
  libgoogle-perftools-dev # tcmalloc, the allocator troupe's binaries link
  python3-grpcio          # gRPC for Python: examples/python_client
  python3-protobuf        # protobuf for Python: examples/python_client
  openssl                 # test certificates, made at test time (TLS tests)
  etcd-server             # etcd 3.4: the cluster's etcd membership, and its tests
  golang-etcd-server-dev  # etcd's API as .proto files: //proto/etcd compiles them
  golang-github-gogo-protobuf-dev    # gogoproto/gogo.proto, which they import
  golang-github-gogo-googleapis-dev  # google/api/annotations.proto, likewise
  iproute2                # `ip netns`: hosts simulated in network namespaces
  iptables                # partitions and loss between them (tests/netns)
  ethtool                 # offloads off, so faults act per packet (tests/netns)
  libnetfilter-queue-dev  # NFQUEUE: the delayer that adds latency (tests/netns)
  systemd                 # systemd-analyze: checks the README's unit (tests/deploy)
  python3-yaml            # parses the README's Kubernetes manifest (tests/deploy)
  prometheus-cpp-dev      # the node's /metrics endpoint (pull exposer, civetweb)
  prometheus              # Prometheus 2.42 and promtool: the metrics tests scrape
  libncurses-dev          # troupectl top's terminal view
  tmux                    # drives troupectl top in its test
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done
# Node.js runs examples/typed_greeter's stock gRPC client. Any install will
# do (the machine's own, or Debian's nodejs and npm when there is none).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

# The Node.js client's packages (@grpc/grpc-js, @grpc/proto-loader), from
# the npm registry at the versions package-lock.json pins; again only when
# they are missing or the lock file changed.
npm_packages() {
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/examples/typed_greeter"
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
     [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  echo "bootstrap: npm ci in examples/typed_greeter"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "bootstrap: npm ci failed in $dir (is the npm registry reachable?)" >&2
    exit 1
  fi
}

if [ "${#missing[@]}" -eq 0 ]; then
  npm_packages
  exit 0
fi

echo "bootstrap: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "bootstrap: cannot install (${missing[*]}): not root and no passwordless sudo." >&2
  echo "bootstrap: run as root, or: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q || { echo "bootstrap: apt-get update failed" >&2; exit 1; }
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  echo "bootstrap: apt-get install failed for: ${missing[*]}" >&2
  exit 1
fi
npm_packages
echo "bootstrap: done"
