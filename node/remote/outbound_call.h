// OutboundCall: one NodeLink.Connect call from this node to a peer, on a
// channel of its own (so gRPC's own reconnect backoff never delays ours).
// The transport under an Endpoint: it writes the frames the endpoint builds
// (one at a time) and hands back what the peer answers (its Hello,
// heartbeats, a leave). Frames travel as raw bytes, parsed here, so a frame
// that does not parse is logged and skipped instead of ending the call.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/link_options.h"
#include "node/runtime/sync.h"
#include "proto/troupe.pb.h"

namespace troupe {

class Endpoint;

class OutboundCall final
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // The channel to the node at `address` that every call of one endpoint
  // uses (so a new call reuses its connection while that is up).
  static std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                                   const LinkOptions& options,
                                                   const ClusterAuth& auth);
  // Starts a call on `channel` with `hello` as its first write (the
  // endpoint's write token is held for it: OnCallWriteDone follows). The
  // call keeps itself alive until OnDone.
  static std::shared_ptr<OutboundCall> Start(
      std::shared_ptr<Endpoint> endpoint,
      const std::shared_ptr<grpc::Channel>& channel, const v1::Frame& hello,
      const ClusterAuth& auth);

  // Writes `frame` (the caller holds the endpoint's write token, so writes
  // never overlap). False, writing nothing, once the call has ended.
  bool Write(const v1::Frame& frame);
  // Ends the call (OnDone follows). Thread-safe, idempotent.
  void Cancel() { context_.TryCancel(); }
  // Closes the write side after the write in flight (later writes fail);
  // the peer ends the call once it has read everything. Thread-safe,
  // idempotent.
  void CloseWrites();

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  explicit OutboundCall(std::shared_ptr<Endpoint> endpoint);

  std::shared_ptr<Endpoint> endpoint_;
  std::shared_ptr<OutboundCall> self_;  // reset in OnDone
  grpc::ClientContext context_;
  std::unique_ptr<grpc::GenericStub> stub_;
  grpc::ByteBuffer write_buffer_;
  grpc::ByteBuffer read_buffer_;
  v1::Frame read_frame_;
  Mutex mu_;
  // Set when the read side ended: no write may start after it (the hold
  // that keeps the call open for writes is released then).
  bool ended_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool closing_writes_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace troupe
