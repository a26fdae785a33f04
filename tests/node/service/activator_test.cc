// SpawnOn and LookupOn: one call, from inside an actor (a continuation) and
// from outside (a future), to this node or another, with every error a
// caller acts on.
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/node_server.h"
#include "tests/node/runtime/test_actors.h"
#include "tests/testing/service_client.h"

namespace troupe {
namespace {

using testing::kWait;

// What an actor's SpawnOn or LookupOn gave it, as a test can read it.
struct Outcome {
  absl::Status status;
  v1::Pid pid;
  std::string echoed;  // what the ref answered an ask of "hi" ("" if none)
};

class ActivatorTest : public ::testing::Test, protected testing::NodePair {
 protected:
  void SetUp() override { ASSERT_TRUE(StartNodes()); }

  ActorSystem& via_system() { return via->node().system(); }
  std::string home_address() { return home->node().address(); }

  // Spawns an actor on `via` that runs `call` (a SpawnOn or LookupOn taking
  // the continuation) and asks the ref it gets "hi"; returns what happened.
  Outcome FromAnActor(
      std::function<void(ActorContext&, RefContinuation)> call) {
    Inbox probe(via_system());
    auto outcome = std::make_shared<Outcome>();
    auto actor = via_system().Spawn(FromBehavior(
        [&probe, outcome, call](ActorContext& ctx, const Message&) {
          call(ctx, [&probe, outcome](ActorContext& ctx,
                                      absl::StatusOr<ActorRef> ref) {
            outcome->status = ref.status();
            if (!ref.ok()) {
              ctx.Tell(probe.ref(), "done");
              return absl::OkStatus();
            }
            outcome->pid = PidOf(*ref);
            ctx.Ask(*ref, "hi", kWait,
                    [&probe, outcome](ActorContext& ctx,
                                      absl::StatusOr<MessagePtr> reply) {
                      if (reply.ok()) {
                        outcome->echoed = std::string(TextOf(**reply));
                      }
                      ctx.Tell(probe.ref(), "done");
                    });
            return absl::OkStatus();
          });
          return absl::OkStatus();
        }));
    EXPECT_TRUE(actor.ok());
    via_system().Tell(*actor, "go");
    EXPECT_TRUE(testing::NextIsText(probe, "done"));
    return *outcome;
  }
};

TEST_F(ActivatorTest, AnActorSpawnsOnAnotherNodeAndUsesTheRefAtOnce) {
  const std::string home_node = home_address();
  Outcome spawned = FromAnActor([&](ActorContext& ctx, RefContinuation then) {
    ctx.SpawnOn(home_node, "echo", "e1", nullptr, kWait, then);
  });
  ASSERT_TRUE(spawned.status.ok()) << spawned.status;
  EXPECT_EQ(spawned.pid.address(), home_node);
  EXPECT_EQ(spawned.pid.id(), "e1");
  EXPECT_NE(spawned.pid.uid(), 0u) << "a spawn answers the exact actor";
  EXPECT_EQ(spawned.echoed, "hi");

  Outcome found = FromAnActor([&](ActorContext& ctx, RefContinuation then) {
    ctx.LookupOn(home_node, "e1", kWait, then);
  });
  ASSERT_TRUE(found.status.ok()) << found.status;
  EXPECT_EQ(found.pid.id(), "e1");
  EXPECT_EQ(found.pid.uid(), 0u) << "a lookup answers a name-only ref";
  EXPECT_EQ(found.echoed, "hi");
}

TEST_F(ActivatorTest, AnActorGetsEachCause) {
  const std::string home_node = home_address();
  auto spawn = [&](const std::string& node, const std::string& kind,
                   const std::string& name) {
    return FromAnActor([=](ActorContext& ctx, RefContinuation then) {
             ctx.SpawnOn(node, kind, name, nullptr, kWait, then);
           })
        .status;
  };
  const absl::Status unknown_kind = spawn(home_node, "no-such-kind", "x");
  EXPECT_EQ(unknown_kind.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(unknown_kind.message(), "echo"))
      << "lists the kinds the node knows: " << unknown_kind;
  ASSERT_TRUE(spawn(home_node, "echo", "taken").ok());
  EXPECT_EQ(spawn(home_node, "echo", "taken").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(spawn(home_node, "echo", "bad name").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(spawn("not an address", "echo", "x").code(),
            absl::StatusCode::kInvalidArgument);
  const absl::Status missing =
      FromAnActor([&](ActorContext& ctx, RefContinuation then) {
        ctx.LookupOn(home_node, "nobody", kWait, then);
      }).status;
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
}

TEST_F(ActivatorTest, ANodeThatIsGoneIsUnavailable) {
  const std::string gone = home_address();
  home.reset();  // the node shuts down; its port refuses connections
  const absl::Status status =
      FromAnActor([&](ActorContext& ctx, RefContinuation then) {
        ctx.SpawnOn(gone, "echo", "x", nullptr, kWait, then);
      }).status;
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
}

TEST_F(ActivatorTest, TheSystemSpawnsAndLooksUpAsAFuture) {
  absl::StatusOr<ActorRef> spawned =
      via_system().SpawnOn(home_address(), "echo", "f1", nullptr, kWait).get();
  ASSERT_TRUE(spawned.ok()) << spawned.status();
  EXPECT_EQ(spawned->address(), home_address());
  auto reply = via_system().Ask(*spawned, "hi", kWait).get();
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(TextOf(**reply), "hi");
  absl::StatusOr<ActorRef> found =
      via_system().LookupOn(home_address(), "f1", kWait).get();
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_EQ(found->uid(), 0u);
  // This node's own activator serves "" and its own address.
  absl::StatusOr<ActorRef> local =
      via_system().SpawnOn("", "echo", "here", nullptr, kWait).get();
  ASSERT_TRUE(local.ok()) << local.status();
  EXPECT_EQ(local->address(), via->node().address());
}

}  // namespace
}  // namespace troupe
