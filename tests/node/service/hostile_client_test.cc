// Bad input on a node's port, against real troupe_node processes (so their
// memory and file descriptors can be read): bytes that are not gRPC, HTTP/1,
// requests that do not parse, deeply nested messages, invalid refs in every
// field, and 100,000 watches of actors that do not exist. Each gets a clear
// answer (or its connection closed), the node keeps serving, and what the
// flood allocated is given back.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "proto/troupe.grpc.pb.h"
#include "tests/testing/child_process.h"
#include "tests/testing/proc_stats.h"

namespace troupe {
namespace {

using ::google::protobuf::Any;
using ::troupe::testing::ChildProcess;
using ::troupe::testing::OpenFds;
using ::troupe::testing::RssKb;

constexpr absl::Duration kWait = absl::Seconds(30);
constexpr char kNodeBinary[] = "node/troupe_node";
// How far a node's heap in use may stay above its baseline once a burst is
// over: allocator and gRPC bookkeeping, not per-request state (a byte kept
// per request of a 50,000 burst would be 50 kB a round).
constexpr uint64_t kHeapSlack = 2 << 20;

// A troupe_node process on a free loopback port.
struct NodeProcess {
  std::unique_ptr<ChildProcess> process;
  std::string address;
};

NodeProcess StartNode() {
  NodeProcess node;
  auto process = ChildProcess::Start(kNodeBinary, {"--listen=127.0.0.1:0"});
  EXPECT_TRUE(process.ok()) << process.status();
  if (!process.ok()) {
    return node;
  }
  node.process = *std::move(process);
  absl::StatusOr<testing::NodeReady> ready =
      testing::ReadNodeReady(*node.process, kWait);
  EXPECT_TRUE(ready.ok()) << ready.status();
  if (ready.ok()) {
    node.address = ready->address;
  }
  return node;
}

class HostileClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_ = StartNode();
    ASSERT_FALSE(b_.address.empty());
    channel_ =
        grpc::CreateChannel(b_.address, grpc::InsecureChannelCredentials());
    stub_ = v1::ActorService::NewStub(channel_);
    echo_ = MustSpawn("echo");
  }

  pid_t pid() const { return b_.process->pid(); }

  static void Bound(grpc::ClientContext* context) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + kWait));
  }

  v1::Pid MustSpawn(const std::string& kind) {
    v1::SpawnRequest request;
    request.set_kind(kind);
    v1::Pid pid;
    grpc::Status status = Unary(&v1::ActorService::Stub::Spawn, request, &pid);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return pid;
  }

  // The node still answers: an ask of the echo comes back.
  void ExpectServing() {
    google::protobuf::StringValue text;
    text.set_value("still serving?");
    v1::AskRequest request;
    *request.mutable_target() = echo_;
    request.mutable_message()->PackFrom(text);
    v1::AskReply reply;
    grpc::Status status = Unary(&v1::ActorService::Stub::Ask, request, &reply);
    ASSERT_TRUE(status.ok()) << status.error_message();
    google::protobuf::StringValue back;
    ASSERT_TRUE(reply.message().UnpackTo(&back));
    EXPECT_EQ(back.value(), "still serving?");
  }

  // Calls a unary method of B's ActorService with `request`, within kWait;
  // the answer goes to `reply` when given.
  template <typename Request, typename Reply>
  grpc::Status Unary(grpc::Status (v1::ActorService::Stub::*method)(
                         grpc::ClientContext*, const Request&, Reply*),
                     const Request& request, Reply* reply = nullptr) {
    Reply ignored;
    grpc::ClientContext context;
    Bound(&context);
    return (stub_.get()->*method)(&context, request,
                                  reply != nullptr ? reply : &ignored);
  }

  // B's memory: what its allocator has handed out and not taken back (back
  // at its baseline once a burst is over), and its resident set (which
  // keeps its peak: freed pages stay with the allocator for reuse).
  struct Memory {
    uint64_t heap_bytes = 0;
    int64_t rss_kb = 0;
    std::string ToString() const {
      return absl::StrCat("heap in use ", heap_bytes / 1024, " kB, RSS ",
                          rss_kb, " kB");
    }
  };
  Memory Measure() { return Memory{Stats().heap_bytes(), RssKb(pid())}; }
  // B's memory once its heap in use is back within kHeapSlack of
  // `baseline` (gRPC frees a closed channel's memory a moment later), or
  // after kWait.
  Memory Settled(const Memory& baseline) {
    const absl::Time deadline = absl::Now() + kWait;
    Memory memory = Measure();
    while (memory.heap_bytes > baseline.heap_bytes + kHeapSlack &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      memory = Measure();
    }
    return memory;
  }

  v1::StatsReply Stats() {
    v1::StatsReply reply;
    EXPECT_TRUE(
        Unary(&v1::ActorService::Stub::Stats, v1::StatsRequest(), &reply).ok());
    return reply;
  }

  NodeProcess b_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ActorService::Stub> stub_;
  v1::Pid echo_;
};

// --- Bytes that are not gRPC ------------------------------------------------

// Connects to `address` over TCP, writes `bytes`, and reads until the node
// closes the connection. Returns what came back, or nullopt if the
// connection was still open after `timeout`.
std::optional<std::string> SendRaw(const std::string& address,
                                   const std::string& bytes,
                                   absl::Duration timeout) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(address.substr(colon + 1), &port)) {
    return std::nullopt;
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    close(fd);
    return std::nullopt;
  }
  // The node may close before it has read everything: a failed write is
  // an answer too.
  (void)send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string received;
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      close(fd);
      return std::nullopt;
    }
    pollfd readable{fd, POLLIN, 0};
    if (poll(&readable, 1, absl::ToInt64Milliseconds(left) + 1) <= 0) {
      continue;
    }
    char buffer[4096];
    const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) {  // closed (or reset) by the node
      close(fd);
      return received;
    }
    received.append(buffer, n);
  }
}

TEST_F(HostileClientTest, BytesThatAreNotGrpcAreClosedAndTheNodeServes) {
  const int fds_before = OpenFds(pid());
  const std::string http1 =
      "GET / HTTP/1.1\r\nHost: troupe\r\nUser-Agent: curl/7.88\r\n\r\n";
  const std::string post =
      "POST /troupe.v1.ActorService/Tell HTTP/1.1\r\nHost: troupe\r\n"
      "Content-Type: application/grpc\r\nContent-Length: 5\r\n\r\nhello";
  std::string noise;
  uint32_t x = 12345;
  for (int i = 0; i < 65536; ++i) {
    x = x * 1103515245 + 12345;
    noise.push_back(static_cast<char>(x >> 24));
  }
  // The HTTP/2 preface, then a frame of nonsense.
  const std::string bad_h2 =
      std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + noise.substr(0, 512);

  int closed = 0;
  for (int round = 0; round < 50; ++round) {
    for (const std::string* bytes :
         std::vector<const std::string*>{&http1, &post, &noise, &bad_h2}) {
      std::optional<std::string> answer = SendRaw(b_.address, *bytes, kWait);
      ASSERT_TRUE(answer.has_value())
          << "the node kept a connection open that sent "
          << bytes->substr(0, 20);
      ++closed;
      if (round == 0 && bytes == &http1) {
        // gRPC answers an HTTP/1 request with an HTTP/2 GOAWAY at most;
        // what a person sees is a closed connection.
        std::printf("HTTP/1 GET got %zu bytes back, then the close\n",
                    answer->size());
      }
    }
  }
  EXPECT_EQ(closed, 200);
  ExpectServing();
  // Every connection was closed on the node's side too.
  absl::Time deadline = absl::Now() + kWait;
  while (OpenFds(pid()) > fds_before && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_LE(OpenFds(pid()), fds_before);
}

// A call whose request bytes do not parse as its message, and a call to a
// method no node has.
TEST_F(HostileClientTest, RequestsThatDoNotParseGetAnErrorStatus) {
  grpc::GenericStub generic(channel_);
  auto call = [&](const std::string& method, const std::string& bytes) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::ClientContext context;
    Bound(&context);
    absl::Notification done;
    grpc::Status result;
    generic.UnaryCall(&context, method, grpc::StubOptions(), &request,
                      &response, [&](grpc::Status status) {
                        result = std::move(status);
                        done.Notify();
                      });
    EXPECT_TRUE(done.WaitForNotificationWithTimeout(kWait));
    return result;
  };
  // The same path with a request that parses is served.
  v1::TellRequest good;
  *good.mutable_target() = echo_;
  google::protobuf::StringValue text;
  good.mutable_message()->PackFrom(text);
  grpc::Status served =
      call("/troupe.v1.ActorService/Tell", good.SerializeAsString());
  EXPECT_TRUE(served.ok()) << served.error_code() << " "
                           << served.error_message();
  // gRPC refuses a request that does not parse before troupe sees it. Its
  // callback API (1.51, server_callback_handlers.h) answers UNIMPLEMENTED
  // with no message, as for a method no one serves.
  // Field 1 (target) claims 1,000 bytes and has 3.
  grpc::Status truncated =
      call("/troupe.v1.ActorService/Tell", std::string("\x0a\xe8\x07"
                                                       "abc",
                                                       6));
  EXPECT_EQ(truncated.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // 100,000 nested groups in an unknown field: deeper than the parser's
  // recursion limit.
  grpc::Status nested = call("/troupe.v1.ActorService/Ask",
                             std::string(100000, '\x7b'));  // field 15, group
  EXPECT_EQ(nested.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  grpc::Status unknown = call("/troupe.v1.NoSuchService/Call", "");
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  ExpectServing();
}

// --- Deeply nested messages -------------------------------------------------

// A google.protobuf.Value holding a list holding a value ... `depth` times,
// serialized bottom-up (no deep message is ever built here).
std::string NestedValue(int depth) {
  std::string bytes;  // an empty Value
  auto wrap = [&bytes](char tag) {
    std::string outer(1, tag);
    size_t size = bytes.size();
    do {
      outer.push_back(
          static_cast<char>((size & 0x7f) | (size > 0x7f ? 0x80 : 0)));
      size >>= 7;
    } while (size != 0);
    bytes = outer + bytes;
  };
  for (int i = 0; i < depth; ++i) {
    wrap('\x0a');  // ListValue.values = 1
    wrap('\x32');  // Value.list_value = 6
  }
  return bytes;
}

TEST_F(HostileClientTest, DeeplyNestedMessagesAreRefusedNotRecursedInto) {
  Any deep;
  deep.set_type_url("type.googleapis.com/google.protobuf.Value");
  deep.set_value(NestedValue(20000));  // 40,000 levels
  v1::TellRequest tell;
  *tell.mutable_target() = echo_;
  *tell.mutable_message() = deep;
  grpc::Status refused = Unary(&v1::ActorService::Stub::Tell, tell);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(
      absl::StrContains(refused.error_message(), "google.protobuf.Value"))
      << refused.error_message();

  // Nesting within protobuf's limit goes through and comes back whole.
  Any shallow;
  shallow.set_type_url("type.googleapis.com/google.protobuf.Value");
  shallow.set_value(NestedValue(40));  // 80 levels
  v1::AskRequest ask;
  *ask.mutable_target() = echo_;
  *ask.mutable_message() = shallow;
  v1::AskReply reply;
  grpc::Status asked = Unary(&v1::ActorService::Stub::Ask, ask, &reply);
  ASSERT_TRUE(asked.ok()) << asked.error_message();
  EXPECT_EQ(reply.message().value(), shallow.value());
  ExpectServing();
}

// --- Invalid refs in every field --------------------------------------------

// Refs no node has: each must be refused before anything is sent.
std::vector<std::pair<std::string, v1::Pid>> InvalidRefs(const v1::Pid& good) {
  std::vector<std::pair<std::string, v1::Pid>> refs;
  auto add = [&](std::string what, std::string address, std::string id) {
    v1::Pid pid = good;
    pid.set_address(std::move(address));
    pid.set_id(std::move(id));
    refs.emplace_back(std::move(what), std::move(pid));
  };
  add("empty address", "", good.id());
  add("no port", "127.0.0.1", good.id());
  add("port out of range", "127.0.0.1:70000", good.id());
  add("negative port", "127.0.0.1:-1", good.id());
  add("port zero", "127.0.0.1:0", good.id());
  add("no host", ":7420", good.id());
  add("empty id", good.address(), "");
  add("everything empty", "", "");
  return refs;
}

TEST_F(HostileClientTest, InvalidRefsInEveryFieldAreRefusedByName) {
  Any message;
  google::protobuf::StringValue text;
  text.set_value("x");
  message.PackFrom(text);

  // Each field that carries a ref, as a call that fills it with `pid`.
  using Call = std::function<grpc::Status(const v1::Pid&)>;
  std::vector<std::pair<std::string, Call>> fields;
  fields.emplace_back("target", [&](const v1::Pid& pid) {
    v1::TellRequest request;
    *request.mutable_target() = pid;
    *request.mutable_message() = message;
    return Unary(&v1::ActorService::Stub::Tell, request);
  });
  fields.emplace_back("sender", [&](const v1::Pid& pid) {
    v1::TellRequest request;
    *request.mutable_target() = echo_;
    *request.mutable_sender() = pid;
    *request.mutable_message() = message;
    return Unary(&v1::ActorService::Stub::Tell, request);
  });
  fields.emplace_back("target", [&](const v1::Pid& pid) {
    v1::AskRequest request;
    *request.mutable_target() = pid;
    *request.mutable_message() = message;
    return Unary(&v1::ActorService::Stub::Ask, request);
  });
  fields.emplace_back("target", [&](const v1::Pid& pid) {
    v1::StopRequest request;
    *request.mutable_target() = pid;
    return Unary(&v1::ActorService::Stub::Stop, request);
  });
  fields.emplace_back("target", [&](const v1::Pid& pid) {
    v1::WatchRequest request;
    *request.mutable_target() = pid;
    grpc::ClientContext context;
    Bound(&context);
    auto reader = stub_->Watch(&context, request);
    v1::Terminated notice;
    EXPECT_FALSE(reader->Read(&notice));
    return reader->Finish();
  });
  fields.emplace_back("node", [&](const v1::Pid& pid) {
    v1::SpawnRequest request;
    request.set_kind("echo");
    request.set_node(pid.address());
    return Unary(&v1::ActorService::Stub::Spawn, request);
  });
  fields.emplace_back("node", [&](const v1::Pid& pid) {
    v1::LookupRequest request;
    request.set_name("someone");
    request.set_node(pid.address());
    return Unary(&v1::ActorService::Stub::Lookup, request);
  });

  int refused = 0;
  for (const auto& [field, call] : fields) {
    for (const auto& [what, pid] : InvalidRefs(echo_)) {
      if (field == "node" && pid.address() == echo_.address()) {
        continue;  // only the address is a node field
      }
      if (field == "node" && pid.address().empty()) {
        continue;  // an empty node is this node
      }
      grpc::Status status = call(pid);
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
          << field << " with " << what << ": " << status.error_message();
      EXPECT_TRUE(absl::StrContains(status.error_message(), field))
          << field << " with " << what << ": " << status.error_message();
      ++refused;
    }
  }
  std::printf("%d calls with an invalid ref refused with INVALID_ARGUMENT\n",
              refused);

  // In an Inbox stream, a bad request is answered on the stream, which
  // goes on.
  grpc::ClientContext context;
  Bound(&context);
  auto inbox = stub_->Inbox(&context);
  v1::InboxEvent event;
  ASSERT_TRUE(inbox->Read(&event));  // the inbox's own ref
  for (const auto& [what, pid] : InvalidRefs(echo_)) {
    v1::InboxRequest request;
    *request.mutable_tell()->mutable_target() = pid;
    *request.mutable_tell()->mutable_message() = message;
    ASSERT_TRUE(inbox->Write(request));
    ASSERT_TRUE(inbox->Read(&event));
    EXPECT_TRUE(absl::StrContains(event.error(), "target"))
        << what << ": " << event.ShortDebugString();
  }
  v1::InboxRequest ask;
  ask.set_ask_id(7);
  *ask.mutable_ask()->mutable_target() = InvalidRefs(echo_)[0].second;
  *ask.mutable_ask()->mutable_message() = message;
  ASSERT_TRUE(inbox->Write(ask));
  ASSERT_TRUE(inbox->Read(&event));
  EXPECT_EQ(event.ask_result().ask_id(), 7u) << event.ShortDebugString();
  EXPECT_TRUE(absl::StrContains(event.ask_result().error(), "target"))
      << event.ShortDebugString();
  v1::InboxRequest empty;
  ASSERT_TRUE(inbox->Write(empty));
  ASSERT_TRUE(inbox->Read(&event));
  EXPECT_FALSE(event.error().empty()) << event.ShortDebugString();
  inbox->WritesDone();
  EXPECT_TRUE(inbox->Finish().ok());
  ExpectServing();
}

// --- Watches of actors that do not exist ------------------------------------

// Runs `total` Watch calls, at most `window` at a time, and counts how they
// ended.
class WatchFlood {
 public:
  WatchFlood(v1::ActorService::Stub* stub, std::function<v1::Pid(int)> target)
      : stub_(stub), target_(std::move(target)) {}

  struct Result {
    int not_found = 0;
    int node_down = 0;
    int other = 0;   // another reason, or more than one notice
    int failed = 0;  // the call ended with an error
    std::string first_error;
  };

  Result Run(int total, int window) {
    {
      absl::MutexLock lock(&mu_);
      window_ = window;
    }
    for (int i = 0; i < total; ++i) {
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(this, &WatchFlood::HasRoom));
        ++in_flight_;
      }
      new Call(this, target_(i));
    }
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &WatchFlood::AllEnded));
    return result_;
  }

 private:
  class Call final : public grpc::ClientReadReactor<v1::Terminated> {
   public:
    Call(WatchFlood* flood, v1::Pid target) : flood_(flood) {
      *request_.mutable_target() = std::move(target);
      context_.set_deadline(absl::ToChronoTime(absl::Now() + kWait));
      flood->stub_->async()->Watch(&context_, &request_, this);
      StartRead(&notice_);
      StartCall();
    }
    void OnReadDone(bool ok) override {
      if (ok) {
        reasons_.push_back(notice_.reason());
        StartRead(&notice_);
      }
    }
    void OnDone(const grpc::Status& status) override {
      flood_->Finished(status, reasons_);
      delete this;
    }

   private:
    WatchFlood* const flood_;
    grpc::ClientContext context_;
    v1::WatchRequest request_;
    v1::Terminated notice_;
    std::vector<v1::TerminationReason> reasons_;
  };

  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ < window_;
  }
  bool AllEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  }

  void Finished(const grpc::Status& status,
                const std::vector<v1::TerminationReason>& reasons) {
    absl::MutexLock lock(&mu_);
    --in_flight_;
    if (!status.ok()) {
      if (result_.failed++ == 0) {
        result_.first_error = status.error_message();
      }
    } else if (reasons.size() != 1) {
      ++result_.other;
    } else if (reasons[0] == v1::NOT_FOUND) {
      ++result_.not_found;
    } else if (reasons[0] == v1::NODE_DOWN) {
      ++result_.node_down;
    } else {
      ++result_.other;
    }
  }

  v1::ActorService::Stub* const stub_;
  const std::function<v1::Pid(int)> target_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int window_ ABSL_GUARDED_BY(mu_) = 1;
  Result result_ ABSL_GUARDED_BY(mu_);
};

TEST_F(HostileClientTest, HundredThousandWatchesOfUnknownIds) {
  // Half of them name actors of B itself, half actors of C, reached over
  // B's link to C.
  NodeProcess c = StartNode();
  ASSERT_FALSE(c.address.empty());
  auto unknown = [&](int round) {
    return [&, round](int i) {
      v1::Pid pid = echo_;
      if (i % 2 == 1) {
        pid.set_address(c.address);
        pid.set_incarnation(0);
      }
      pid.set_id(absl::StrCat("nobody-", round, "-", i));
      return pid;
    };
  };
  // A first small round warms up what a node allocates once.
  WatchFlood(stub_.get(), unknown(0)).Run(2000, 200);
  const v1::StatsReply before = Stats();
  const Memory baseline = Measure();

  constexpr int kWatches = 50000;
  for (int round = 1; round <= 2; ++round) {
    const absl::Time start = absl::Now();
    WatchFlood::Result result =
        WatchFlood(stub_.get(), unknown(round)).Run(kWatches, 1000);
    const absl::Duration took = absl::Now() - start;
    EXPECT_EQ(result.not_found, kWatches) << result.first_error;
    EXPECT_EQ(result.failed + result.other + result.node_down, 0)
        << result.first_error;
    const Memory after = Settled(baseline);
    EXPECT_LE(after.heap_bytes, baseline.heap_bytes + kHeapSlack);
    std::printf(
        "round %d: %d watches of unknown ids, each one Terminated{NOT_FOUND}, "
        "in %s (%.0f/s); B after: %s (before: %s)\n",
        round, kWatches, absl::FormatDuration(took).c_str(),
        kWatches / absl::ToDoubleSeconds(took), after.ToString().c_str(),
        baseline.ToString().c_str());
  }
  // Nothing is kept per watch: no actor, no link (only the one to C).
  const v1::StatsReply now = Stats();
  EXPECT_EQ(now.actors_alive(), before.actors_alive());
  EXPECT_EQ(now.links_size(), 1);
  ExpectServing();
}

// Refs on nodes that are not there (each a different address): each watch
// ends with NODE_DOWN, and the node forgets the addresses afterwards.
TEST_F(HostileClientTest, RefsToManyMissingNodesAreForgotten) {
  // 127.0.x.y:1 is loopback with nothing listening: refused at once.
  auto missing = [&](int round) {
    return [round](int i) {
      v1::Pid pid;
      pid.set_address(
          absl::StrCat("127.", round, ".", i / 250, ".", i % 250 + 2, ":1"));
      pid.set_id("someone");
      return pid;
    };
  };
  WatchFlood(stub_.get(), missing(10)).Run(200, 200);
  const Memory baseline = Measure();
  constexpr int kAddresses = 2000;
  for (int round = 1; round <= 2; ++round) {
    const absl::Time start = absl::Now();
    WatchFlood::Result result =
        WatchFlood(stub_.get(), missing(round)).Run(kAddresses, 500);
    EXPECT_EQ(result.node_down, kAddresses) << result.first_error;
    EXPECT_EQ(result.failed + result.other + result.not_found, 0)
        << result.first_error;
    // The links to them are dropped once nothing refers to them.
    const absl::Time deadline = absl::Now() + kWait;
    int links = Stats().links_size();
    while (links > 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
      links = Stats().links_size();
    }
    EXPECT_EQ(links, 0);
    // Each round names 2,000 new addresses: what is kept of one would
    // show.
    const Memory after = Settled(baseline);
    EXPECT_LE(after.heap_bytes, baseline.heap_bytes + kHeapSlack);
    std::printf(
        "round %d: watches of actors on %d missing nodes, each one "
        "Terminated{NODE_DOWN}, links forgotten, in %s; B after: %s "
        "(before: %s)\n",
        round, kAddresses, absl::FormatDuration(absl::Now() - start).c_str(),
        after.ToString().c_str(), baseline.ToString().c_str());
  }
  ExpectServing();
}

}  // namespace
}  // namespace troupe
