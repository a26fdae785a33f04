// PendingCalls: unary calls of the public service that wait for an ask.
#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "node/runtime/sync.h"
#include "node/service/rpc_counters.h"

namespace troupe {

// PendingCalls: the public service's unary calls waiting for an ask (Ask,
// Stop, a Spawn or Lookup forwarded to another node). The ask's callback
// finishes a call, or Close does (with its status) when the node stops
// first, whichever comes first; the callbacks share the table, so they may
// outlive the service. Thread-safe.
class PendingCalls {
 public:
  // Records a call that will be finished later, counted as `call` if Close
  // finishes it; false (the caller finishes it at once) once closed.
  bool Add(grpc::ServerUnaryReactor* reactor, const RpcCall& call) {
    MutexLock lock(&mu_);
    if (closed_) {
      return false;
    }
    calls_.emplace(reactor, call);
    return true;
  }
  // True for the first of the ask and Close: that one finishes the call.
  bool Claim(grpc::ServerUnaryReactor* reactor) {
    MutexLock lock(&mu_);
    return calls_.erase(reactor) > 0;
  }
  // Finishes every recorded call with `status` (counted), and refuses new
  // ones until Reopen.
  void Close(const absl::Status& status) {
    absl::flat_hash_map<grpc::ServerUnaryReactor*, RpcCall> calls;
    {
      MutexLock lock(&mu_);
      closed_ = true;
      calls.swap(calls_);
    }
    for (const auto& [reactor, call] : calls) {
      reactor->Finish(call.End(status));
    }
  }
  void Reopen() {
    MutexLock lock(&mu_);
    closed_ = false;
  }

 private:
  Mutex mu_;
  absl::flat_hash_map<grpc::ServerUnaryReactor*, RpcCall> calls_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace troupe
