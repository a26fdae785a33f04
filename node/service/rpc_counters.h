// RpcCounters: finished calls of a node's public gRPC methods, by method
// and status code, for the node's metrics (troupe_rpc_calls_total).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/support/status.h"

namespace troupe {

class RpcCounters {
 public:
  // Beyond this many (method, code) pairs, further methods are counted as
  // kOtherMethod: a client may call any path, and each would be a series.
  static constexpr size_t kMaxSeries = 512;
  static constexpr absl::string_view kOtherMethod = "other";

  // One finished call of `method` (its gRPC path, "/pkg.Service/Method")
  // that ended with `code` (a grpc::StatusCode). Thread-safe.
  void Count(absl::string_view method, int code);

  struct Series {
    std::string method;
    int code = 0;
    uint64_t calls = 0;
  };
  // Every series so far. Thread-safe.
  std::vector<Series> Read() const;

  // A method's gRPC path: "/package.Service/Method".
  static std::string Path(const google::protobuf::MethodDescriptor& method);

  // `status` as the gRPC status a call of `method` ends with, counted in
  // `rpcs` (null: not counted). Thread-safe.
  static grpc::Status End(RpcCounters* rpcs, absl::string_view method,
                          const absl::Status& status);

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::pair<std::string, int>, uint64_t> calls_
      ABSL_GUARDED_BY(mu_);
};

// One call of a public method, counted once when it ends, whoever ends it
// (its handler, an ask's callback, or the node's shutdown, PendingCalls).
// Copyable and cheap: `method` must outlive it (a literal, or a path the
// service keeps); `counters` may be null (nothing counted).
class RpcCall {
 public:
  RpcCall(RpcCounters* counters, absl::string_view method)
      : counters_(counters), method_(method) {}
  // The status the call ends with, counted. Thread-safe.
  grpc::Status End(const absl::Status& status) const {
    return RpcCounters::End(counters_, method_, status);
  }

 private:
  RpcCounters* counters_;
  absl::string_view method_;
};

}  // namespace troupe
