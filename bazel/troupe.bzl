"""Shared compiler options and the cc_* macros every troupe package uses.

The one place that says how project code is compiled: C++17, and warnings as
errors. Generated code (bazel/proto.bzl) gets TROUPE_STD_COPTS only.
"""

TROUPE_STD_COPTS = ["-std=c++17"]

TROUPE_WARNING_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
]

TROUPE_COPTS = TROUPE_STD_COPTS + TROUPE_WARNING_COPTS

def troupe_cc_library(name, copts = [], **kwargs):
    native.cc_library(name = name, copts = TROUPE_COPTS + copts, **kwargs)

# troupe's binaries allocate with tcmalloc (gperftools): with glibc's malloc,
# memory allocated on one thread and freed on another (every message, every
# actor) goes through contended arenas; tcmalloc's thread caches measured
# ~1.4x faster spawns (tests/bench:local_bench). Libraries leave the choice
# to the program; sanitizer builds keep their own allocator.
TROUPE_MALLOC = select({
    "//bazel:sanitized": "@bazel_tools//tools/cpp:malloc",
    "//conditions:default": "@host//:tcmalloc",
})

def troupe_cc_binary(name, copts = [], **kwargs):
    native.cc_binary(
        name = name,
        copts = TROUPE_COPTS + copts,
        malloc = TROUPE_MALLOC,
        **kwargs
    )

def troupe_cc_test(name, copts = [], deps = [], uses_grpc = False, tags = [], size = "small", **kwargs):
    """A GoogleTest test (gtest_main linked in).

    uses_grpc: the test links Debian's gRPC, which is not built with
    ThreadSanitizer; such tests are tagged "grpc" and skipped by --config=tsan.
    """
    native.cc_test(
        name = name,
        copts = TROUPE_COPTS + copts,
        deps = deps + ["@host//:gtest_main"],
        tags = tags + (["grpc"] if uses_grpc else []),
        size = size,
        **kwargs
    )
