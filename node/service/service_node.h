// ServiceNode: what each public service of a node (ActorService, the
// gRPC ingress of actor services) keeps about the node it serves: the node
// itself (attached once it has started, detached as it shuts down), the
// unary calls waiting on it, and its message limit; and TimeLeft, the
// time a call has before its deadline.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstddef>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "node/remote/node.h"
#include "node/runtime/sync.h"
#include "node/service/grpc_status.h"
#include "node/service/pending_calls.h"

namespace troupe {

// The time left before `context`'s deadline (zero or less once it has
// passed), or `otherwise` when the call has none.
inline absl::Duration TimeLeft(const grpc::ServerContextBase& context,
                               absl::Duration otherwise) {
  if (context.deadline() == std::chrono::system_clock::time_point::max()) {
    return otherwise;
  }
  return absl::FromChrono(context.deadline()) - absl::Now();
}

// Thread-safe.
class ServiceNode {
 public:
  // Gives the service its node; null detaches it: the calls waiting on it
  // end UNAVAILABLE and new ones are refused until the next Attach.
  void Attach(Node* node) {
    {
      MutexLock lock(&mu_);
      node_ = node;
    }
    if (node == nullptr) {
      pending_->Close(NotServing());
    } else {
      max_message_bytes_.store(node->remoting().options().max_message_bytes,
                               std::memory_order_relaxed);
      pending_->Reopen();
    }
  }

  // The node, when it is serving and the call carries the cluster secret:
  // UNAVAILABLE (starting or shutting down) or UNAUTHENTICATED otherwise.
  absl::StatusOr<Node*> Enter(const grpc::ServerContextBase& context) {
    Node* node = nullptr;
    {
      MutexLock lock(&mu_);
      node = node_;
    }
    if (node == nullptr) {
      return NotServing();
    }
    if (absl::Status allowed = node->remoting().auth().Check(context);
        !allowed.ok()) {
      return allowed;
    }
    return node;
  }

  // Records a unary call that an ask (or Close) will finish; when the node
  // is going away, finishes it at once with UNAVAILABLE and returns false.
  // Either way its end is counted as `call`.
  bool Hold(grpc::ServerUnaryReactor* reactor, const RpcCall& call) {
    if (pending_->Add(reactor, call)) {
      return true;
    }
    reactor->Finish(call.End(NotServing()));
    return false;
  }
  // The calls held; callbacks keep the table (it may outlive the service).
  const std::shared_ptr<PendingCalls>& pending() const { return pending_; }

  // RESOURCE_EXHAUSTED when `bytes` of a message a client sent (`what`)
  // are over the node's limit, which every node keeps for every message (a
  // gRPC message may be larger: it has room for the request around it).
  absl::Status CheckSize(size_t bytes, absl::string_view what) const {
    const size_t limit = max_message_bytes_.load(std::memory_order_relaxed);
    if (bytes <= limit) {
      return absl::OkStatus();
    }
    return absl::ResourceExhaustedError(
        absl::StrCat("the ", what, " is ", bytes,
                     " bytes, over this node's message limit of ", limit,
                     " bytes (--max_message_bytes)"));
  }

  static absl::Status NotServing() {
    return absl::UnavailableError("the node is starting or shutting down");
  }

 private:
  const std::shared_ptr<PendingCalls> pending_ =
      std::make_shared<PendingCalls>();
  std::atomic<size_t> max_message_bytes_{4 << 20};
  Mutex mu_;
  Node* node_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace troupe
