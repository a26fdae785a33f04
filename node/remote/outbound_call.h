// The gRPC transport under a link (link_transport.h). GrpcDialer dials one
// peer on a channel of its own (so gRPC's own reconnect backoff never delays
// the link's); OutboundCall is one NodeLink.Connect call on it: it writes
// the frames the link's writer builds (one at a time) and hands back what
// the peer answers (its Hello, heartbeats, a leave). Frames travel as raw
// bytes, parsed here, so a frame that does not parse is logged and skipped
// instead of ending the call.
#pragma once

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/support/client_callback.h>

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/link_options.h"
#include "node/remote/link_transport.h"
#include "node/runtime/sync.h"
#include "proto/troupe.pb.h"

namespace troupe {

// Dials the node at one address. Every call uses one channel, made on the
// first dial: a new attempt reuses its connection while that is up (no new
// TCP, TLS and HTTP/2 handshakes on a long path). `auth` must outlive it.
// Thread-safe.
class GrpcDialer final : public LinkDialer {
 public:
  GrpcDialer(std::string address, const LinkOptions& options,
             const ClusterAuth& auth)
      : address_(std::move(address)), options_(options), auth_(auth) {}
  std::shared_ptr<LinkCall> Dial(std::shared_ptr<LinkCallEvents> events,
                                 const v1::Frame& hello) override;

 private:
  const std::string address_;
  const LinkOptions options_;
  const ClusterAuth& auth_;
  Mutex mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(mu_);
};

class OutboundCall final
    : public LinkCall,
      public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  // Starts a call on `channel` with `hello` as its first write; `events`
  // hears of it (see LinkDialer::Dial). The call keeps itself alive until
  // OnDone. `address` names the peer in log lines.
  static std::shared_ptr<OutboundCall> Start(
      std::shared_ptr<LinkCallEvents> events, std::string address,
      const std::shared_ptr<grpc::Channel>& channel, const v1::Frame& hello,
      const ClusterAuth& auth);

  // LinkCall.
  size_t Write(const v1::Frame& frame) override;
  void CloseWrites() override;
  void Cancel() override { context_.TryCancel(); }

  void OnWriteDone(bool ok) override;
  void OnReadDone(bool ok) override;
  void OnDone(const grpc::Status& status) override;

 private:
  OutboundCall(std::shared_ptr<LinkCallEvents> events, std::string address);

  std::shared_ptr<LinkCallEvents> events_;
  const std::string address_;
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
