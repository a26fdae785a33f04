// Caller runs at the gRPC ingress (ActorServiceOptions::caller_runs): an
// actor that is idle when a typed unary call reaches it handles the call on
// the gRPC thread that received it; with the option off, always on a
// dispatcher worker. Either way every call is answered, also calls that
// find the actor busy and calls it answers later.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "node/runtime/dispatcher.h"
#include "node/service/node_server.h"
#include "tests/node/typed/echo_actors.h"
#include "tests/node/typed/test_services.grpc.pb.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using test::EchoReply;
using testing::kTypedWait;
using testing::Request;

constexpr int kCalls = 8;  // held at once by HoldUntil

// Answers with the dispatcher worker it runs on (-1: outside the pool).
class WhereAmI final : public test::EchoActor {
 public:
  void Echo(ActorContext& /*ctx*/, const test::EchoRequest& request,
            Responder<EchoReply> reply) override {
    EchoReply out;
    out.set_text(
        absl::StrCat(request.text(), " ", Dispatcher::CurrentWorkerIndex()));
    reply.Send(std::move(out));
  }
};

// Holds its Echo calls until it has `n`, then answers them all: calls
// answered later, from another call's message (and thread).
class HoldUntil final : public test::EchoActor {
 public:
  explicit HoldUntil(size_t n) : n_(n) {}
  void Echo(ActorContext& /*ctx*/, const test::EchoRequest& request,
            Responder<EchoReply> reply) override {
    held_.push_back({request.text(), std::move(reply)});
    if (held_.size() < n_) {
      return;
    }
    for (auto& [text, responder] : held_) {
      EchoReply out;
      out.set_text(text);
      responder.Send(std::move(out));
    }
    held_.clear();
  }

 private:
  const size_t n_;
  std::vector<std::pair<std::string, Responder<EchoReply>>> held_;
};

// On each call, tells itself three messages, takes longer than a caller's
// slice (Dispatcher::kCallerRunSlice), and answers once the three are
// handled: "CALL_WORKER AFTER1 AFTER2 AFTER3", each the dispatcher worker
// it ran on (-1: outside the pool).
class TellsItself final : public test::EchoActor {
 public:
  void Echo(ActorContext& ctx, const test::EchoRequest& /*request*/,
            Responder<EchoReply> reply) override {
    text_ = absl::StrCat(Dispatcher::CurrentWorkerIndex());
    for (int i = 0; i < 3; ++i) {
      ctx.Tell(ctx.Self(), Text("after"));
    }
    absl::SleepFor(Dispatcher::kCallerRunSlice * 5);  // a slow message
    reply_.emplace(std::move(reply));
  }
  absl::Status ReceiveOther(ActorContext& /*ctx*/,
                            const Message& /*message*/) override {
    absl::StrAppend(&text_, " ", Dispatcher::CurrentWorkerIndex());
    if (++after_ == 3) {
      after_ = 0;
      EchoReply out;
      out.set_text(text_);
      reply_->Send(std::move(out));
      reply_.reset();
    }
    return absl::OkStatus();
  }

 private:
  std::string text_;
  int after_ = 0;
  std::optional<Responder<EchoReply>> reply_;
};

// Makes `calls` calls one after another; returns how many ran outside the
// pool, or -1 if one failed or came back wrong.
int CallsOffThePool(const std::string& address, int calls) {
  auto stub = test::Echo::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  int off_pool = 0;
  for (int i = 0; i < calls; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("troupe-actor", "where");
    context.set_deadline(absl::ToChronoTime(absl::Now() + kTypedWait));
    EchoReply reply;
    const std::string text = absl::StrCat("call", i);
    grpc::Status status = stub->Echo(&context, Request(text), &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    int worker = 0;
    const std::string prefix = text + " ";
    if (!status.ok() || reply.text().rfind(prefix, 0) != 0 ||
        !absl::SimpleAtoi(reply.text().substr(prefix.size()), &worker)) {
      ADD_FAILURE() << "reply '" << reply.text() << "' to " << text;
      return -1;
    }
    off_pool += worker < 0 ? 1 : 0;
  }
  return off_pool;
}

TEST(IngressCallerRunsTest, AnIdleActorAnswersOnTheCallsThread) {
  std::unique_ptr<NodeServer> node = testing::StartTestNode();
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->node().system().Spawn<WhereAmI>("where").ok());
  // The first call may find the actor still starting on a worker; the
  // later ones find it idle (sequential calls: each answered before the
  // next is made).
  EXPECT_GT(CallsOffThePool(node->address(), 20), 0);
}

// The gRPC thread that borrowed the actor's run begins no message after
// its slice: what the actor sent itself during a slow call runs on the pool
// (a gRPC thread also serves the node's I/O and must not be held long).
TEST(IngressCallerRunsTest, TheCallsThreadBeginsNoMessageAfterItsSlice) {
  std::unique_ptr<NodeServer> node = testing::StartTestNode();
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->node().system().Spawn<TellsItself>("self").ok());
  auto stub = test::Echo::NewStub(
      grpc::CreateChannel(node->address(), grpc::InsecureChannelCredentials()));
  int on_the_calls_thread = 0;
  for (int i = 0; i < 20; ++i) {
    grpc::ClientContext context;
    context.AddMetadata("troupe-actor", "self");
    context.set_deadline(absl::ToChronoTime(absl::Now() + kTypedWait));
    EchoReply reply;
    grpc::Status status = stub->Echo(&context, Request("x"), &reply);
    ASSERT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> workers = absl::StrSplit(reply.text(), ' ');
    ASSERT_EQ(workers.size(), 4u) << reply.text();
    if (workers[0] == "-1") {
      ++on_the_calls_thread;
      for (int j = 1; j < 4; ++j) {
        EXPECT_NE(workers[j], "-1")
            << "message " << j << " of " << reply.text();
      }
    }
  }
  EXPECT_GT(on_the_calls_thread, 0);
}

TEST(IngressCallerRunsTest, OffEveryCallRunsOnAWorker) {
  NodeServerOptions options;
  options.service.caller_runs = false;
  std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
  ASSERT_NE(node, nullptr);
  ASSERT_TRUE(node->node().system().Spawn<WhereAmI>("where").ok());
  EXPECT_EQ(CallsOffThePool(node->address(), 20), 0);
}

// Calls in flight together (some find the actor busy: queued, not run on
// their thread), answered later from another call's message: all answered,
// each with its own reply, with either setting.
TEST(IngressCallerRunsTest, HeldCallsAreAnsweredWithEitherSetting) {
  for (bool caller_runs : {true, false}) {
    SCOPED_TRACE(caller_runs ? "caller runs" : "workers only");
    NodeServerOptions options;
    options.service.caller_runs = caller_runs;
    std::unique_ptr<NodeServer> node = testing::StartTestNode(options);
    ASSERT_NE(node, nullptr);
    ASSERT_TRUE(
        node->node()
            .system()
            .Spawn([] { return std::unique_ptr<Actor>(new HoldUntil(kCalls)); },
                   "holder")
            .ok());
    auto stub = test::Echo::NewStub(grpc::CreateChannel(
        node->address(), grpc::InsecureChannelCredentials()));
    grpc::CompletionQueue queue;
    struct Call {
      grpc::ClientContext context;
      EchoReply reply;
      grpc::Status status;
    };
    std::vector<std::unique_ptr<Call>> calls;
    for (int i = 0; i < kCalls; ++i) {
      calls.push_back(std::make_unique<Call>());
      Call& call = *calls.back();
      call.context.AddMetadata("troupe-actor", "holder");
      call.context.set_deadline(absl::ToChronoTime(absl::Now() + kTypedWait));
      stub->AsyncEcho(&call.context, Request(absl::StrCat("held", i)), &queue)
          ->Finish(&call.reply, &call.status, &call);
    }
    for (int i = 0; i < kCalls; ++i) {
      void* tag = nullptr;
      bool ok = false;
      // Every call has a deadline: each completes, answered or not.
      if (!queue.Next(&tag, &ok)) {
        ADD_FAILURE() << "the completion queue ended early";
        break;
      }
      Call* call = static_cast<Call*>(tag);
      EXPECT_TRUE(call->status.ok()) << call->status.error_message();
    }
    for (int i = 0; i < kCalls; ++i) {
      EXPECT_EQ(calls[i]->reply.text(), absl::StrCat("held", i));
    }
    queue.Shutdown();
  }
}

}  // namespace
}  // namespace troupe
