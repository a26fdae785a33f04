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

def troupe_actor_library(name, srcs, proto, deps = [], visibility = None):
    """Declares `name`, a cc_library of the typed actors of `srcs`' services.

    Runs protoc with protoc-gen-troupe (//node/typed) on `srcs`, which must
    also be the srcs of the troupe_proto_library `proto` (their messages).
    For each file x.proto it generates x.troupe.{h,cc}: per service Foo, the
    actor base FooActor, the typed ref FooRef and FooActor::KindOf (see
    node/typed/protoc_gen_troupe.cc). Include "path/x.troupe.h".

    Args:
      name: the cc_library of the generated actors.
      srcs: .proto files of this package with services.
      proto: the troupe_proto_library of the same files (label).
      deps: further libraries the generated code needs (rare).
      visibility: of the cc_library.
    """
    bases = [s[:-len(".proto")] for s in srcs]
    outs = []
    for b in bases:
        outs += [b + ".troupe.h", b + ".troupe.cc"]
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [proto + "_files"],
        outs = outs,
        cmd = ("$(location @host//:protoc) -I. -I/usr/include " +
               "--plugin=protoc-gen-troupe=$(location //node/typed:protoc-gen-troupe) " +
               "--troupe_out=$(GENDIR) " +
               " ".join(["$(location {})".format(s) for s in srcs])),
        tools = ["@host//:protoc", "//node/typed:protoc-gen-troupe"],
        message = "protoc-gen-troupe " + " ".join(srcs),
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        copts = TROUPE_STD_COPTS,
        deps = deps + [
            proto,
            "//node/runtime:actor",
            "//node/service:kinds",
            "//node/typed:responder",
            "//node/typed:typed_call",
            "@host//:absl_status",
            "@host//:absl_time",
        ],
        visibility = visibility,
    )
