// service_bench: typed actor calls through a node's gRPC ingress beside a
// plain gRPC echo service (no actor), both on the callback API in this
// process, called by the same C++ load client keeping C calls in flight
// (C = 1, 16, 64). Prints, for each C, the two side by side:
//
//   troupe typed_call calls_per_s=N p50_us=N p99_us=N concurrency=C
//   troupe grpc_echo calls_per_s=N p50_us=N p99_us=N concurrency=C
//
//   bazel run -c opt //tests/bench:service_bench [-- --seconds=3]
//
// The runs alternate (typed, plain, typed, plain...) and each figure is the
// best of --rounds runs (3), so a slow stretch of a busy machine does not
// fall on one side only (with 2, the ratio still moved by up to 20 points
// between runs on the 2-core CI machine). --caller_runs=false measures the
// ingress handing every call to a dispatcher worker.
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "node/service/command_line.h"
#include "node/service/node_server.h"
#include "tests/bench/service_bench.grpc.pb.h"
#include "tests/bench/service_bench.troupe.h"

ABSL_FLAG(double, seconds, 3, "how long each run calls");
ABSL_FLAG(int, rounds, 3, "runs of each kind at each concurrency");
ABSL_FLAG(int, payload, 32, "bytes of each request and reply");
ABSL_FLAG(int, threads, 0, "the node's dispatcher threads (0 = one per core)");
ABSL_FLAG(bool, caller_runs, true,
          "the node's ActorServiceOptions::caller_runs (false: every call is "
          "handed to a dispatcher worker)");
ABSL_FLAG(std::string, only, "",
          "typed or plain: run only that side (to profile one of them)");
ABSL_FLAG(std::vector<std::string>, concurrency,
          std::vector<std::string>({"1", "16", "64"}),
          "calls in flight, one run each");

namespace troupe::bench {
namespace {

// The typed actor: answers with the payload.
class TypedEcho final : public EchoActor {
 public:
  void Echo(ActorContext& /*ctx*/, const EchoRequest& request,
            Responder<EchoReply> reply) override {
    EchoReply out;
    out.set_payload(request.payload());
    reply.Send(std::move(out));
  }
};

TROUPE_REGISTER_ACTOR_KIND(EchoActor::KindOf<TypedEcho>("bench_echo"));

// The same service as plain gRPC.
class PlainEcho final : public Echo::CallbackService {
  grpc::ServerUnaryReactor* Echo(grpc::CallbackServerContext* context,
                                 const EchoRequest* request,
                                 EchoReply* reply) override {
    reply->set_payload(request->payload());
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

struct Result {
  double calls_per_s = 0;
  double p50_us = 0;
  double p99_us = 0;
  int64_t errors = 0;
};

// Keeps `concurrency` calls in flight for `duration`.
class Load {
 public:
  Load(Echo::Stub* stub, bool typed, int concurrency, absl::Duration duration,
       const std::string& payload)
      : stub_(stub), typed_(typed), concurrency_(concurrency) {
    request_.set_payload(payload);
    end_ = absl::Now() + duration;
  }

  Result Run() {
    const absl::Time start = absl::Now();
    in_flight_ = concurrency_;
    for (int i = 0; i < concurrency_; ++i) {
      Issue();
    }
    done_.WaitForNotification();
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    absl::MutexLock lock(&mu_);
    Result result;
    std::sort(latencies_us_.begin(), latencies_us_.end());
    if (!latencies_us_.empty()) {
      result.calls_per_s = latencies_us_.size() / seconds;
      result.p50_us = latencies_us_[latencies_us_.size() / 2];
      result.p99_us = latencies_us_[latencies_us_.size() * 99 / 100];
    }
    result.errors = errors_;
    return result;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    EchoReply reply;
    absl::Time start;
  };

  void Issue() {
    auto* call = new Call;
    call->start = absl::Now();
    if (typed_) {
      call->context.AddMetadata("troupe-actor", "echo");
    }
    call->context.set_deadline(
        absl::ToChronoTime(call->start + absl::Seconds(10)));
    stub_->async()->Echo(
        &call->context, &request_, &call->reply,
        [this, call](grpc::Status status) {
          const absl::Time now = absl::Now();
          {
            absl::MutexLock lock(&mu_);
            if (status.ok()) {
              latencies_us_.push_back(
                  absl::ToDoubleMicroseconds(now - call->start));
            } else if (errors_++ == 0) {
              std::fprintf(stderr, "service_bench: %s\n",
                           status.error_message().c_str());
            }
          }
          delete call;
          if (now < end_) {
            Issue();
          } else if (in_flight_.fetch_sub(1) == 1) {
            done_.Notify();
          }
        });
  }

  Echo::Stub* const stub_;
  const bool typed_;
  const int concurrency_;
  EchoRequest request_;
  absl::Time end_;
  std::atomic<int> in_flight_{0};
  absl::Notification done_;
  absl::Mutex mu_;
  std::vector<double> latencies_us_ ABSL_GUARDED_BY(mu_);
  int64_t errors_ ABSL_GUARDED_BY(mu_) = 0;
};

void Print(const char* what, const Result& r, int concurrency) {
  std::printf(
      "troupe %s calls_per_s=%.0f p50_us=%.0f p99_us=%.0f "
      "concurrency=%d%s\n",
      what, r.calls_per_s, r.p50_us, r.p99_us, concurrency,
      r.errors > 0 ? " (ERRORS)" : "");
  std::fflush(stdout);
}

int Run() {
  NodeServerOptions options;
  options.listen = "127.0.0.1:0";
  options.system.threads = absl::GetFlag(FLAGS_threads);
  options.service.caller_runs = absl::GetFlag(FLAGS_caller_runs);
  absl::StatusOr<std::unique_ptr<NodeServer>> node = NodeServer::Start(options);
  if (!node.ok()) {
    std::fprintf(stderr, "service_bench: %s\n",
                 node.status().ToString().c_str());
    return 1;
  }
  if (!(*node)->node().system().Spawn<TypedEcho>("echo").ok()) {
    return 1;
  }
  PlainEcho plain;
  int plain_port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &plain_port);
  builder.RegisterService(&plain);
  std::unique_ptr<grpc::Server> plain_server = builder.BuildAndStart();
  if (plain_server == nullptr || plain_port == 0) {
    std::fprintf(stderr, "service_bench: cannot start the plain server\n");
    return 1;
  }
  auto typed_stub = Echo::NewStub(grpc::CreateChannel(
      (*node)->address(), grpc::InsecureChannelCredentials()));
  auto plain_stub =
      Echo::NewStub(grpc::CreateChannel(absl::StrCat("127.0.0.1:", plain_port),
                                        grpc::InsecureChannelCredentials()));
  const std::string payload(absl::GetFlag(FLAGS_payload), 'x');
  const absl::Duration duration = absl::Seconds(absl::GetFlag(FLAGS_seconds));
  std::printf(
      "typed actor through the ingress of %s; plain gRPC echo on "
      "127.0.0.1:%d; %d-byte payloads, %s runs, best of %d\n",
      (*node)->address().c_str(), plain_port, absl::GetFlag(FLAGS_payload),
      absl::FormatDuration(duration).c_str(), absl::GetFlag(FLAGS_rounds));
  // Warm both paths (connections, the actor's first call).
  Load(typed_stub.get(), true, 4, absl::Milliseconds(300), payload).Run();
  Load(plain_stub.get(), false, 4, absl::Milliseconds(300), payload).Run();
  const std::string only = absl::GetFlag(FLAGS_only);
  for (const std::string& level : absl::GetFlag(FLAGS_concurrency)) {
    int concurrency = 0;
    if (!absl::SimpleAtoi(level, &concurrency) || concurrency <= 0) {
      std::fprintf(stderr, "service_bench: --concurrency: '%s'\n",
                   level.c_str());
      return 2;
    }
    Result typed, grpc_echo;
    for (int round = 0; round < absl::GetFlag(FLAGS_rounds); ++round) {
      if (only != "plain") {
        Result t =
            Load(typed_stub.get(), true, concurrency, duration, payload).Run();
        if (t.calls_per_s > typed.calls_per_s) typed = t;
      }
      if (only != "typed") {
        Result g =
            Load(plain_stub.get(), false, concurrency, duration, payload).Run();
        if (g.calls_per_s > grpc_echo.calls_per_s) grpc_echo = g;
      }
    }
    if (only != "plain") Print("typed_call", typed, concurrency);
    if (only != "typed") Print("grpc_echo", grpc_echo, concurrency);
    if (only.empty()) {
      std::printf("  typed/plain = %.0f %%\n",
                  grpc_echo.calls_per_s > 0
                      ? 100.0 * typed.calls_per_s / grpc_echo.calls_per_s
                      : 0.0);
    }
  }
  plain_server->Shutdown();
  (*node)->Shutdown(absl::Seconds(1));
  return 0;
}

}  // namespace
}  // namespace troupe::bench

int main(int argc, char** argv) {
  troupe::ParseCommandLine(
      "typed actor calls through a node's gRPC ingress beside a plain gRPC\n"
      "echo service, at 1, 16 and 64 calls in flight; prints typed_call and\n"
      "grpc_echo lines side by side.\n"
      "  bazel run -c opt //tests/bench:service_bench [-- --seconds=3]",
      argc, argv);
  return troupe::bench::Run();
}
