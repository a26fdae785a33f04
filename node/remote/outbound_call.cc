#include "node/remote/outbound_call.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "node/remote/endpoint.h"
#include "node/remote/wire_codec.h"
#include "node/runtime/logging.h"

namespace troupe {

OutboundCall::OutboundCall(std::shared_ptr<Endpoint> endpoint)
    : endpoint_(std::move(endpoint)) {}

std::shared_ptr<OutboundCall> OutboundCall::Start(
    std::shared_ptr<Endpoint> endpoint, const std::string& address,
    const v1::Frame& hello, const LinkOptions& options,
    const ClusterAuth& auth) {
  grpc::ChannelArguments args;
  // A fresh subchannel per call: a pool shared across channels would carry
  // gRPC's reconnect backoff (up to 2 minutes) over from a failed attempt.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(static_cast<int>(MaxFrameBytes(options)));
  args.SetMaxSendMessageSize(static_cast<int>(MaxFrameBytes(options)));
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateCustomChannel(address, auth.LinkCredentials(), args);

  std::shared_ptr<OutboundCall> call(new OutboundCall(std::move(endpoint)));
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

bool OutboundCall::Write(const v1::Frame& frame) {
  SerializeFrame(frame, &write_buffer_);
  MutexLock lock(&mu_);
  if (ended_ || closing_writes_) {
    return false;
  }
  writing_ = true;
  StartWrite(&write_buffer_);
  return true;
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
  endpoint_->OnCallWriteDone(this, ok);
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
  if (ParseFrame(&read_buffer_, &read_frame_)) {
    endpoint_->OnCallFrame(this, read_frame_);
  } else {
    Log(LogSeverity::kWarning,
        absl::StrCat("link to ", endpoint_->address(),
                     ": skipped a frame that does not parse"));
  }
  StartRead(&read_buffer_);
}

void OutboundCall::OnDone(const grpc::Status& status) {
  endpoint_->OnCallDone(this, status);
  endpoint_.reset();
  self_.reset();  // may delete this: nothing after it
}

}  // namespace troupe
