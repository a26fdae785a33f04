"""troupe_example: one example under examples/ (see examples/common)."""

load(":proto.bzl", "troupe_proto_library")
load(":troupe.bzl", "troupe_cc_binary")

def troupe_example(name, srcs, protos = [], deps = []):
    """An example program and its test.

    Declares `name`, a cc_binary that is node A and starts the node processes
    it needs from its own binary (//examples/common:example_cluster), with
    the stock kinds and its own; `name`_proto when `protos` are given; and
    `name`_test, an sh_test that runs `name`_test.sh with the program's path
    and checks what it prints.

    Args:
      name: the example (the folder's name, so `bazel run //examples/<name>`).
      srcs: its C++ sources.
      protos: its .proto files (they may import proto/troupe.proto).
      deps: more libraries it uses.
    """
    proto_deps = []
    if protos:
        troupe_proto_library(
            name = name + "_proto",
            srcs = protos,
            deps = ["//proto:troupe_proto"],
        )
        proto_deps = [":" + name + "_proto"]
    troupe_cc_binary(
        name = name,
        srcs = srcs,
        deps = proto_deps + deps + [
            "//examples/common:example_cluster",
            "//node/runtime",
            "//node/service:kinds",
            "//node/service:activator",
            "//node/service:stock_kinds",
        ],
    )
    native.sh_test(
        name = name + "_test",
        size = "small",
        srcs = [name + "_test.sh"],
        args = ["$(location :{})".format(name)],
        data = [":" + name],
        tags = ["grpc"],  # runs Debian's (uninstrumented) gRPC: not under tsan
    )
