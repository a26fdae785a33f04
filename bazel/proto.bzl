"""troupe_proto_library: a .proto file as a C++ protobuf + gRPC cc_library.

Runs Debian's protoc with grpc_cpp_plugin (both from @host). Generated headers
are included by their workspace path: `#include "proto/troupe.pb.h"`.
Well-known types (google/protobuf/any.proto, ...) resolve from /usr/include.
"""

load(":troupe.bzl", "TROUPE_STD_COPTS")

def troupe_proto_library(name, srcs, deps = [], grpc_name = None, visibility = None):
    """Declares `name`, a cc_library of the generated message code for `srcs`.

    The message library depends on protobuf only, so code that must stay free
    of gRPC (the local runtime) can use it.

    Args:
      name: the cc_library of the messages (x.pb.{h,cc}).
      srcs: .proto files of this package.
      deps: other troupe_proto_library message targets these files import.
      grpc_name: if set, also a cc_library of that name with the gRPC service
        code (x.grpc.pb.{h,cc}), depending on `name` and gRPC.
      visibility: of the cc_libraries.
    """
    bases = [s[:-len(".proto")] for s in srcs]
    pb_outs = []
    grpc_outs = []
    for b in bases:
        pb_outs += [b + ".pb.h", b + ".pb.cc"]
        if grpc_name:
            grpc_outs += [b + ".grpc.pb.h", b + ".grpc.pb.cc"]

    native.filegroup(
        name = name + "_files",
        srcs = srcs + [d + "_files" for d in deps],
        visibility = visibility,
    )

    cmd = "$(location @host//:protoc) -I. -I/usr/include --cpp_out=$(GENDIR)"
    tools = ["@host//:protoc"]
    if grpc_name:
        cmd += " --grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=$(location @host//:grpc_cpp_plugin)"
        tools.append("@host//:grpc_cpp_plugin")
    cmd += " " + " ".join(["$(location {})".format(s) for s in srcs])

    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_files" for d in deps],
        outs = pb_outs + grpc_outs,
        cmd = cmd,
        tools = tools,
        message = "protoc " + " ".join(srcs),
    )

    native.cc_library(
        name = name,
        srcs = [o for o in pb_outs if o.endswith(".cc")],
        hdrs = [o for o in pb_outs if o.endswith(".h")],
        copts = TROUPE_STD_COPTS,
        deps = deps + ["@host//:protobuf"],
        # Linked whole: every message type registers itself, so a program
        # can find any of them by name (Any payloads, JSON in troupectl)
        # even if its code never names the type.
        alwayslink = True,
        visibility = visibility,
    )

    if grpc_name:
        native.cc_library(
            name = grpc_name,
            srcs = [o for o in grpc_outs if o.endswith(".cc")],
            hdrs = [o for o in grpc_outs if o.endswith(".h")],
            copts = TROUPE_STD_COPTS,
            deps = [":" + name, "@host//:grpcpp"],
            visibility = visibility,
        )
