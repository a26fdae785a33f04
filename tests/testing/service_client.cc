#include "tests/testing/service_client.h"

#include <utility>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "proto/kinds.pb.h"

namespace troupe::testing {
namespace {

void Bound(grpc::ClientContext* context, absl::Duration timeout) {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
}

google::protobuf::Duration ToProtoDuration(absl::Duration d) {
  google::protobuf::Duration proto;
  proto.set_seconds(absl::ToInt64Seconds(d));
  proto.set_nanos(
      static_cast<int32_t>(absl::ToInt64Nanoseconds(d % absl::Seconds(1))));
  return proto;
}

}  // namespace

google::protobuf::Any Pack(const google::protobuf::Message& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

google::protobuf::Any PackText(const std::string& text) {
  google::protobuf::StringValue value;
  value.set_value(text);
  return Pack(value);
}

std::unique_ptr<NodeServer> StartTestNode(NodeServerOptions options) {
  if (options.listen.empty() || options.listen == NodeServerOptions().listen) {
    options.listen = "127.0.0.1:0";
  }
  auto node = NodeServer::Start(options);
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

WatchStream::WatchStream(v1::ActorService::Stub& stub, const v1::Pid& target,
                         absl::Duration timeout) {
  Bound(&context_, timeout);
  v1::WatchRequest request;
  *request.mutable_target() = target;
  reader_ = stub.Watch(&context_, request);
}

void WatchStream::WaitInPlace() { reader_->WaitForInitialMetadata(); }

bool WatchStream::Next(v1::Terminated* terminated) {
  return reader_->Read(terminated);
}

grpc::Status WatchStream::Finish() { return reader_->Finish(); }

InboxStream::InboxStream(v1::ActorService::Stub& stub, absl::Duration timeout) {
  Bound(&context_, timeout);
  stream_ = stub.Inbox(&context_);
  v1::InboxEvent first;
  if (!stream_->Read(&first) || !first.has_inbox()) {
    ADD_FAILURE() << "the inbox stream did not start with its Pid";
    return;
  }
  pid_ = first.inbox();
}

bool InboxStream::Tell(const v1::Pid& target,
                       const google::protobuf::Any& message) {
  v1::InboxRequest request;
  *request.mutable_tell()->mutable_target() = target;
  *request.mutable_tell()->mutable_message() = message;
  return stream_->Write(request);
}

bool InboxStream::Read(v1::InboxEvent* event) { return stream_->Read(event); }

std::unique_ptr<InboxStream> ServiceClient::Inbox(absl::Duration timeout) {
  return std::make_unique<InboxStream>(*stub_, timeout);
}

ServiceClient::ServiceClient(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  args.SetMaxReceiveMessageSize(64 << 20);
  stub_ = v1::ActorService::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

grpc::Status ServiceClient::Spawn(const std::string& kind,
                                  const std::string& name, v1::Pid* pid,
                                  const google::protobuf::Any* init,
                                  const std::string& node) {
  v1::SpawnRequest request;
  request.set_kind(kind);
  request.set_name(name);
  request.set_node(node);
  if (init != nullptr) {
    *request.mutable_init() = *init;
  }
  grpc::ClientContext context;
  Bound(&context, kCallTimeout);
  return stub_->Spawn(&context, request, pid);
}

v1::Pid ServiceClient::MustSpawn(const std::string& kind,
                                 const std::string& name,
                                 const google::protobuf::Any* init,
                                 const std::string& node) {
  v1::Pid pid;
  grpc::Status status = Spawn(kind, name, &pid, init, node);
  EXPECT_TRUE(status.ok()) << "spawn " << kind << " '" << name
                           << "': " << status.error_message();
  return pid;
}

grpc::Status ServiceClient::Lookup(const std::string& name, v1::Pid* pid,
                                   const std::string& node) {
  v1::LookupRequest request;
  request.set_name(name);
  request.set_node(node);
  grpc::ClientContext context;
  Bound(&context, kCallTimeout);
  return stub_->Lookup(&context, request, pid);
}

grpc::Status ServiceClient::Tell(const v1::Pid& target,
                                 const google::protobuf::Any& message,
                                 const v1::Pid* sender) {
  v1::TellRequest request;
  *request.mutable_target() = target;
  *request.mutable_message() = message;
  if (sender != nullptr) {
    *request.mutable_sender() = *sender;
  }
  v1::TellReply reply;
  grpc::ClientContext context;
  Bound(&context, kCallTimeout);
  return stub_->Tell(&context, request, &reply);
}

grpc::Status ServiceClient::Ask(const v1::Pid& target,
                                const google::protobuf::Any& message,
                                google::protobuf::Any* reply,
                                absl::Duration timeout) {
  v1::AskRequest request;
  *request.mutable_target() = target;
  *request.mutable_message() = message;
  *request.mutable_timeout() = ToProtoDuration(timeout);
  v1::AskReply answer;
  grpc::ClientContext context;
  Bound(&context, timeout + kCallTimeout);
  grpc::Status status = stub_->Ask(&context, request, &answer);
  *reply = answer.message();
  return status;
}

grpc::Status ServiceClient::Stop(const v1::Pid& target, bool graceful) {
  v1::StopRequest request;
  *request.mutable_target() = target;
  request.set_graceful(graceful);
  v1::StopReply reply;
  grpc::ClientContext context;
  Bound(&context, kCallTimeout);
  return stub_->Stop(&context, request, &reply);
}

grpc::Status ServiceClient::Stats(v1::StatsReply* stats) {
  grpc::ClientContext context;
  Bound(&context, kCallTimeout);
  return stub_->Stats(&context, v1::StatsRequest(), stats);
}

std::unique_ptr<WatchStream> ServiceClient::Watch(const v1::Pid& target,
                                                  absl::Duration timeout) {
  return std::make_unique<WatchStream>(*stub_, target, timeout);
}

bool NodePair::StartNodes(NodeServerOptions home_options,
                          NodeServerOptions via_options) {
  home = StartTestNode(std::move(home_options));
  via = StartTestNode(std::move(via_options));
  if (home == nullptr || via == nullptr) {
    return false;
  }
  home_client = std::make_unique<ServiceClient>(home->address());
  via_client = std::make_unique<ServiceClient>(via->address());
  return true;
}

int64_t ServiceClient::CounterValue(const v1::Pid& counter) {
  google::protobuf::Any reply;
  grpc::Status status = Ask(counter, Pack(v1::CounterGet()), &reply);
  EXPECT_TRUE(status.ok()) << status.error_message();
  google::protobuf::Int64Value value;
  if (!status.ok() || !reply.UnpackTo(&value)) {
    ADD_FAILURE() << "counter answered " << reply.type_url();
    return -1;
  }
  return value.value();
}

}  // namespace troupe::testing
