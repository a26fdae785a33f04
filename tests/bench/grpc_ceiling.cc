// grpc_ceiling: what gRPC alone allows for one-message-in-flight ping-pong
// on this machine, with no actor work at all — the ceiling remote_pingpong
// is measured against. Two processes on 127.0.0.1: a server echoes every
// message on a bidi stream; the client sends the next message when the echo
// arrives. Prints, for each API:
//
//   troupe grpc_pingpong api=<async|callback> roundtrips_per_s=<n> rtt_us=<x>
//
// api=async:    one thread per process drives its own completion queue and
//               writes from there: the fewest thread hand-offs gRPC allows.
// api=callback: the callback API troupe's remoting uses (gRPC's own threads
//               run the reactions).
//
//   bazel run -c opt //tests/bench:grpc_ceiling

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "node/service/command_line.h"
#include "tests/testing/child_process.h"

ABSL_FLAG(std::string, role, "client",
          "client (default: starts the servers and measures) or "
          "async_server / callback_server (internal)");
ABSL_FLAG(int64_t, roundtrips, 50'000, "round trips per run");
ABSL_FLAG(int, repeat, 3, "runs per API; the best counts");

namespace troupe {
namespace {

constexpr char kMethod[] = "/troupe.bench.Probe/Echo";
constexpr int kWarmup = 1'000;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "grpc_ceiling: %s\n", what.c_str());
  std::exit(1);
}

grpc::ByteBuffer SmallMessage() {
  static const char kBytes[16] = {};
  grpc::Slice slice(kBytes, sizeof(kBytes));
  return grpc::ByteBuffer(&slice, 1);
}

// Completion-queue tags of the async roles.
enum class Tag : intptr_t { kStart = 1, kRead, kWrite, kFinish };
void* ToTag(Tag tag) { return reinterpret_cast<void*>(tag); }
Tag FromTag(void* tag) {
  return static_cast<Tag>(reinterpret_cast<intptr_t>(tag));
}

struct Result {
  int64_t count = 0;
  absl::Duration elapsed;
};

// --- Servers -----------------------------------------------------------------

void PrintPort(grpc::Server* server, int port) {
  if (server == nullptr || port == 0) {
    Fail("cannot listen on 127.0.0.1:0");
  }
  std::printf("port %d\n", port);
  std::fflush(stdout);
}

// One call at a time, echoed from the thread that drives the queue.
int RunAsyncServer() {
  grpc::AsyncGenericService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterAsyncGenericService(&service);
  std::unique_ptr<grpc::ServerCompletionQueue> cq =
      builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  PrintPort(server.get(), port);
  for (;;) {
    grpc::GenericServerContext context;
    grpc::GenericServerAsyncReaderWriter stream(&context);
    service.RequestCall(&context, &stream, cq.get(), cq.get(),
                        ToTag(Tag::kStart));
    grpc::ByteBuffer buffer;
    void* tag = nullptr;
    bool ok = false;
    bool open = true;
    while (open && cq->Next(&tag, &ok)) {
      switch (FromTag(tag)) {
        case Tag::kStart:
        case Tag::kWrite:
          stream.Read(&buffer, ToTag(Tag::kRead));
          break;
        case Tag::kRead:
          if (ok) {
            stream.Write(buffer, ToTag(Tag::kWrite));
          } else {
            stream.Finish(grpc::Status::OK, ToTag(Tag::kFinish));
          }
          break;
        case Tag::kFinish:
          open = false;
          break;
      }
    }
  }
}

class EchoReactor : public grpc::ServerGenericBidiReactor {
 public:
  EchoReactor() { StartRead(&buffer_); }
  void OnReadDone(bool ok) override {
    if (ok) {
      StartWrite(&buffer_);
    } else {
      Finish(grpc::Status::OK);
    }
  }
  void OnWriteDone(bool ok) override {
    if (ok) {
      StartRead(&buffer_);
    } else {
      Finish(grpc::Status::OK);
    }
  }
  void OnDone() override { delete this; }

 private:
  grpc::ByteBuffer buffer_;
};

class EchoService : public grpc::CallbackGenericService {
  grpc::ServerGenericBidiReactor* CreateReactor(
      grpc::GenericCallbackServerContext* /*context*/) override {
    return new EchoReactor();
  }
};

int RunCallbackServer() {
  EchoService service;
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterCallbackGenericService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  PrintPort(server.get(), port);
  server->Wait();
  return 0;
}

// --- Clients -----------------------------------------------------------------

// The clock starts after kWarmup echoes (connection set-up excluded).
Result AsyncPingPong(grpc::GenericStub& stub, int64_t roundtrips) {
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> stream =
      stub.PrepareCall(&context, kMethod, &cq);
  stream->StartCall(ToTag(Tag::kStart));
  const grpc::ByteBuffer out = SmallMessage();
  grpc::ByteBuffer in;
  int64_t echoes = 0;
  bool reading = false;
  bool writing = false;
  bool echoed = false;  // the next write waits for the echo and the last write
  absl::Time start;
  auto write_if_ready = [&] {
    if (echoed && !writing) {
      echoed = false;
      writing = true;
      stream->Write(out, ToTag(Tag::kWrite));
    }
  };
  void* tag = nullptr;
  bool ok = false;
  while (echoes < roundtrips + kWarmup && cq.Next(&tag, &ok)) {
    if (!ok) {
      Fail("async call failed");
    }
    switch (FromTag(tag)) {
      case Tag::kStart:
        echoed = true;
        break;
      case Tag::kRead:
        reading = false;
        echoed = true;
        if (++echoes == kWarmup) {
          start = absl::Now();
        }
        break;
      case Tag::kWrite:
        writing = false;
        break;
      case Tag::kFinish:
        break;
    }
    if (!reading) {
      reading = true;
      stream->Read(&in, ToTag(Tag::kRead));
    }
    write_if_ready();
  }
  const Result result{roundtrips, absl::Now() - start};
  // Cancel, let the read and write in flight complete, then finish.
  context.TryCancel();
  while ((reading || writing) && cq.Next(&tag, &ok)) {
    if (FromTag(tag) == Tag::kRead) {
      reading = false;
    } else if (FromTag(tag) == Tag::kWrite) {
      writing = false;
    }
  }
  grpc::Status status;
  stream->Finish(&status, ToTag(Tag::kFinish));
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  return result;
}

class PingPongReactor
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  PingPongReactor(grpc::GenericStub& stub, int64_t roundtrips)
      : out_(SmallMessage()), roundtrips_(roundtrips) {
    stub.PrepareBidiStreamingCall(&context_, kMethod, grpc::StubOptions(),
                                  this);
    StartRead(&in_);
    StartWrite(&out_);
    StartCall();
  }

  Result Wait() {
    if (!done_.WaitForNotificationWithTimeout(absl::Minutes(2))) {
      Fail("callback ping-pong did not finish in 2 minutes");
    }
    Result result{roundtrips_, end_ - start_};
    context_.TryCancel();
    if (!finished_.WaitForNotificationWithTimeout(absl::Seconds(10))) {
      Fail("callback call did not end");
    }
    return result;
  }

  void OnWriteDone(bool ok) override {
    if (ok) {
      MaybeWrite();
    }
  }
  void OnReadDone(bool ok) override {
    if (!ok) {
      return;
    }
    ++echoes_;
    if (echoes_ == kWarmup) {
      start_ = absl::Now();
    }
    if (echoes_ == roundtrips_ + kWarmup) {
      end_ = absl::Now();
      done_.Notify();
      return;
    }
    StartRead(&in_);
    MaybeWrite();
  }
  void OnDone(const grpc::Status& /*status*/) override { finished_.Notify(); }

 private:
  // The echo and the previous write's completion may come on two threads.
  void MaybeWrite() {
    if (gate_.fetch_add(1, std::memory_order_acq_rel) == 1) {
      gate_.store(0, std::memory_order_relaxed);
      StartWrite(&out_);
    }
  }

  grpc::ClientContext context_;
  const grpc::ByteBuffer out_;
  grpc::ByteBuffer in_;
  const int64_t roundtrips_;
  int64_t echoes_ = 0;  // reads complete one at a time
  std::atomic<int> gate_{0};
  absl::Time start_;
  absl::Time end_;
  absl::Notification done_;
  absl::Notification finished_;
};

std::unique_ptr<testing::ChildProcess> StartServer(const std::string& self,
                                                   const std::string& role,
                                                   std::string* address) {
  auto process = testing::ChildProcess::Start(self, {"--role=" + role});
  if (!process.ok()) {
    Fail(process.status().ToString());
  }
  auto line = (*process)->ReadLineStartingWith("port ", absl::Seconds(30));
  if (!line.ok()) {
    Fail(absl::StrCat(role, " did not start: ", line.status().ToString()));
  }
  *address = absl::StrCat("127.0.0.1:", line->substr(5));
  return std::move(*process);
}

int RunClient(const std::string& self) {
  const int64_t roundtrips = absl::GetFlag(FLAGS_roundtrips);
  for (const char* api : {"async", "callback"}) {
    std::string address;
    auto server = StartServer(self, absl::StrCat(api, "_server"), &address);
    grpc::GenericStub stub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    double best_rate = 0;
    double best_rtt = 0;
    for (int i = 0; i < absl::GetFlag(FLAGS_repeat); ++i) {
      Result result;
      if (std::string(api) == "async") {
        result = AsyncPingPong(stub, roundtrips);
      } else {
        PingPongReactor reactor(stub, roundtrips);
        result = reactor.Wait();
      }
      const double seconds = absl::ToDoubleSeconds(result.elapsed);
      if (result.count / seconds > best_rate) {
        best_rate = result.count / seconds;
        best_rtt = seconds * 1e6 / result.count;
      }
    }
    std::printf("troupe grpc_pingpong api=%s roundtrips_per_s=%.0f "
                "rtt_us=%.1f\n",
                api, best_rate, best_rtt);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  troupe::ParseCommandLine(
      "gRPC ping-pong ceiling: one message in flight over a bidi stream\n"
      "between two processes on 127.0.0.1, with the async and the callback\n"
      "API and no actor work (what remote_pingpong is measured against).\n"
      "  bazel run -c opt //tests/bench:grpc_ceiling",
      argc, argv);
  const std::string role = absl::GetFlag(FLAGS_role);
  if (role == "async_server") {
    return troupe::RunAsyncServer();
  }
  if (role == "callback_server") {
    return troupe::RunCallbackServer();
  }
  if (role != "client") {
    troupe::Fail(absl::StrCat("unknown --role '", role, "'"));
  }
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    troupe::Fail("cannot find this program's path");
  }
  self[n] = '\0';
  return troupe::RunClient(self);
}
