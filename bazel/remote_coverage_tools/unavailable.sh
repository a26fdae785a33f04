#!/bin/sh
# Stand-in for Bazel's coverage tools, which cannot be downloaded offline.
echo "troupe: 'bazel coverage' is not supported offline; use gcov/lcov directly" >&2
exit 1
