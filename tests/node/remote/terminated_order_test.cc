// Pins down when a watcher's Terminated arrives: after every message the
// watched actor sent it before ending, on one node and across nodes. (The
// playground used to re-queue Terminated by hand, unsure of this.)
#include <memory>
#include <string>
#include <utility>

#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "node/remote/node.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using ::troupe::testing::kWait;
using ::troupe::testing::Lambda;

constexpr int kLastWords = 2000;

std::unique_ptr<Node> StartNode() {
  NodeOptions options;
  options.listen = "127.0.0.1:0";
  options.system.threads = 2;
  auto node = Node::Start(std::move(options));
  EXPECT_TRUE(node.ok()) << node.status();
  return node.ok() ? std::move(*node) : nullptr;
}

// Told a Pid (google.protobuf.StringValue is not used: the Pid itself),
// sends kLastWords numbers to it and stops at once.
ActorFactory Speaker() {
  return Lambda([](ActorContext& ctx, const Message& m) {
    if (const auto* listener = As<v1::Pid>(m)) {
      for (int i = 0; i < kLastWords; ++i) {
        google::protobuf::Int32Value word;
        word.set_value(i);
        ctx.Tell(*listener, std::move(word));
      }
      ctx.Stop();
    } else if (IsText(m, "sync")) {
      ctx.Reply("synced");
    }
    return absl::OkStatus();
  });
}

// Told a Pid, watches it and, once the watch is in place (an ask round trip
// behind it on the same link), tells `probe` "watching". Counts the words
// it hears, and tells `probe` the count, in order, when the Terminated
// comes.
ActorFactory Listener(ActorRef probe) {
  auto heard = std::make_shared<int>(0);
  return Lambda([probe, heard](ActorContext& ctx, const Message& m) {
    if (const auto* speaker = As<v1::Pid>(m)) {
      ctx.Watch(*speaker);
      ctx.Ask(*speaker, "sync", kWait,
              [probe](ActorContext& ctx, absl::StatusOr<MessagePtr> reply) {
                ctx.Tell(probe,
                         reply.ok() ? "watching" : reply.status().ToString());
              });
    } else if (const auto* word = As<google::protobuf::Int32Value>(m)) {
      EXPECT_EQ(word->value(), *heard);
      ++*heard;
    } else if (const auto* gone = As<Terminated>(m)) {
      EXPECT_EQ(gone->reason(), kStopped);
      google::protobuf::Int32Value count;
      count.set_value(*heard);
      ctx.Tell(probe, std::move(count));
    }
    return absl::OkStatus();
  });
}

// Spawns the listener on `here` and the speaker on `there`, and returns how
// many words the listener had heard when Terminated arrived.
int HeardBeforeTerminated(Node& here, Node& there) {
  Inbox probe(here.system());
  auto listener = here.system().Spawn(Listener(probe.ref()));
  auto speaker = there.system().Spawn(Speaker());
  EXPECT_TRUE(listener.ok() && speaker.ok());
  if (!listener.ok() || !speaker.ok()) {
    return -1;
  }
  // Each learns of the other as a Pid, as it would inside a message.
  here.system().Tell(*listener, PidOf(*speaker));
  EXPECT_TRUE(testing::NextIsText(probe, "watching"));
  there.system().Tell(*speaker, PidOf(*listener));
  auto count = probe.ReceiveAs<google::protobuf::Int32Value>(kWait);
  EXPECT_TRUE(count.ok()) << count.status();
  return count.ok() ? count->value() : -1;
}

TEST(TerminatedOrderTest, OnOneNodeTerminatedComesAfterTheLastWords) {
  std::unique_ptr<Node> a = StartNode();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(HeardBeforeTerminated(*a, *a), kLastWords);
}

TEST(TerminatedOrderTest, AcrossNodesTerminatedComesAfterTheLastWords) {
  std::unique_ptr<Node> a = StartNode();
  std::unique_ptr<Node> b = StartNode();
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(HeardBeforeTerminated(*a, *b), kLastWords);
  // And the other way, on links that already exist.
  EXPECT_EQ(HeardBeforeTerminated(*b, *a), kLastWords);
}

}  // namespace
}  // namespace troupe
