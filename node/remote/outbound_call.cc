#include "node/remote/outbound_call.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/remote/grpc_frames.h"
#include "node/runtime/logging.h"

namespace troupe {

namespace {

std::shared_ptr<grpc::Channel> NewChannel(const std::string& address,
                                          const LinkOptions& options,
                                          const ClusterAuth& auth) {
  grpc::ChannelArguments args;
  // The channel's own subchannel: a pool shared across channels would
  // carry another channel's reconnect backoff over.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  // gRPC's reconnect backoff (1 s, growing to 2 minutes by default) kept
  // within the endpoint's own, so a peer that comes back is reached as
  // soon as the endpoint tries again. gRPC gives a connection attempt at
  // least its "min reconnect backoff" (its name for the minimum connect
  // timeout, 20 s by default): the link's connect_timeout.
  const int max_backoff_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options.max_backoff));
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, std::max(50, max_backoff_ms));
  args.SetInt(
      GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.connect_timeout)));
  args.SetMaxReceiveMessageSize(static_cast<int>(MaxFrameBytes(options)));
  args.SetMaxSendMessageSize(static_cast<int>(MaxFrameBytes(options)));
  return grpc::CreateCustomChannel(address, auth.LinkCredentials(), args);
}

absl::Status ToAbsl(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace

std::shared_ptr<LinkCall> GrpcDialer::Dial(
    std::shared_ptr<LinkCallEvents> events, const v1::Frame& hello) {
  std::shared_ptr<grpc::Channel> channel;
  {
    MutexLock lock(&mu_);
    if (channel_ == nullptr) {
      channel_ = NewChannel(address_, options_, auth_);
    }
    channel = channel_;
  }
  return OutboundCall::Start(std::move(events), address_, channel, hello,
                             auth_);
}

OutboundCall::OutboundCall(std::shared_ptr<LinkCallEvents> events,
                           std::string address)
    : events_(std::move(events)), address_(std::move(address)) {}

std::shared_ptr<OutboundCall> OutboundCall::Start(
    std::shared_ptr<LinkCallEvents> events, std::string address,
    const std::shared_ptr<grpc::Channel>& channel, const v1::Frame& hello,
    const ClusterAuth& auth) {
  std::shared_ptr<OutboundCall> call(
      new OutboundCall(std::move(events), std::move(address)));
  call->self_ = call;
  call->stub_ = std::make_unique<grpc::GenericStub>(channel);
  auth.AddTo(&call->context_);
  call->stub_->PrepareBidiStreamingCall(&call->context_,
                                        "/troupe.v1.NodeLink/Connect",
                                        grpc::StubOptions(), call.get());
  // Held until the read side ends, so writes from outside a reaction
  // always find the call open.
  call->AddHold();
  SerializeFrame(hello, &call->write_buffer_);
  {
    MutexLock lock(&call->mu_);
    call->writing_ = true;
  }
  call->StartWrite(&call->write_buffer_);
  call->StartRead(&call->read_buffer_);
  call->StartCall();
  return call;
}

size_t OutboundCall::Write(const v1::Frame& frame) {
  SerializeFrame(frame, &write_buffer_);
  const size_t bytes = write_buffer_.Length();
  MutexLock lock(&mu_);
  if (ended_ || closing_writes_) {
    return 0;
  }
  writing_ = true;
  StartWrite(&write_buffer_);
  return bytes;
}

void OutboundCall::CloseWrites() {
  MutexLock lock(&mu_);
  if (ended_ || closing_writes_) {
    return;
  }
  closing_writes_ = true;
  if (!writing_) {
    StartWritesDone();
  }
}

void OutboundCall::OnWriteDone(bool ok) {
  {
    MutexLock lock(&mu_);
    writing_ = false;
    if (closing_writes_ && !ended_) {
      StartWritesDone();
    }
  }
  events_->OnCallWriteDone(this, ok);
}

void OutboundCall::OnReadDone(bool ok) {
  if (!ok) {
    {
      MutexLock lock(&mu_);
      ended_ = true;
    }
    RemoveHold();
    return;
  }
  const size_t bytes = read_buffer_.Length();
  if (ParseFrame(&read_buffer_, &read_frame_)) {
    events_->OnCallFrame(this, read_frame_, bytes);
  } else {
    events_->OnCallMalformed(this, bytes);
  }
  StartRead(&read_buffer_);
}

void OutboundCall::OnDone(const grpc::Status& status) {
  events_->OnCallDone(this, ToAbsl(status));
  events_.reset();
  self_.reset();  // may delete this: nothing after it
}

}  // namespace troupe
