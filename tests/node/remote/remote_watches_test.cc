// The two watch tables of a link, on their own (no gRPC, no link): one WATCH
// per watched actor, in-place notices once the peer acknowledges, stale
// acknowledgements ignored, every watcher told its own spelling, all of
// them NODE_DOWN when the link goes. Runs under TSan and ASan.
#include "node/remote/remote_watches.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "node/runtime/envelope.h"
#include "node/runtime/sync.h"

namespace troupe {
namespace {

// A process that records the system messages it gets.
class Recorder final : public Process {
 public:
  explicit Recorder(std::string id, const std::string& address = "10.0.0.1:1")
      : Process(MakeNodeAddress(address), std::move(id), 1, 1) {}
  void SendUser(EnvelopePtr) override {}
  void SendSystem(SystemMessagePtr message) override {
    MutexLock lock(&mu_);
    got_.push_back(std::move(message));
  }
  bool IsTerminated() const override { return false; }
  std::vector<SystemMessagePtr> Take() {
    MutexLock lock(&mu_);
    return std::move(got_);
  }

 private:
  Mutex mu_;
  std::vector<SystemMessagePtr> got_;
};

// The peer's actor `id`, named through the address `spelling`.
std::shared_ptr<Process> PeerActor(const std::string& spelling,
                                   const std::string& id) {
  return std::make_shared<Recorder>(id, spelling);
}

TEST(WatchTableTest, OneWatchPerActorAndInPlaceOnceAcknowledged) {
  WatchTable table;
  auto first = std::make_shared<Recorder>("w1");
  auto second = std::make_shared<Recorder>("w2");
  auto third = std::make_shared<Recorder>("w3");
  auto actor = PeerActor("peer:1", "a");
  EXPECT_EQ(table.Add(actor, ActorRef(first)), WatchTable::Added::kSendWatch);
  EXPECT_EQ(table.Add(actor, ActorRef(second)), WatchTable::Added::kPending)
      << "one WATCH on the wire per actor";
  Watchers told = table.OnWatched(WatchKeyOf(*actor));
  EXPECT_EQ(told.size(), 2u);
  EXPECT_TRUE(table.OnWatched(WatchKeyOf(*actor)).empty()) << "told once";
  EXPECT_EQ(table.Add(actor, ActorRef(third)), WatchTable::Added::kInPlace);
  EXPECT_EQ(table.size(), 1u);
}

TEST(WatchTableTest, TheLastUnwatchSendsUnwatchAndItsLateAckIsIgnored) {
  WatchTable table;
  auto watcher = std::make_shared<Recorder>("w");
  auto actor = PeerActor("peer:1", "a");
  ASSERT_EQ(table.Add(actor, ActorRef(watcher)), WatchTable::Added::kSendWatch);
  EXPECT_TRUE(table.Remove(*actor, ActorRef(watcher)));
  EXPECT_FALSE(table.Remove(*actor, ActorRef(watcher))) << "not watching";
  // A new watch of the same actor, then the old WATCH's late WATCHED: it
  // must not mark the new watch in place.
  ASSERT_EQ(table.Add(actor, ActorRef(watcher)), WatchTable::Added::kSendWatch);
  EXPECT_TRUE(table.OnWatched(WatchKeyOf(*actor)).empty());
  EXPECT_EQ(table.OnWatched(WatchKeyOf(*actor)).size(), 1u)
      << "the new watch's own WATCHED";
}

TEST(WatchTableTest, TerminatedEndsTheWatchForEveryWatcherInItsSpelling) {
  WatchTable table;
  auto w1 = std::make_shared<Recorder>("w1");
  auto w2 = std::make_shared<Recorder>("w2");
  auto as_ip = PeerActor("127.0.0.1:1", "a");
  auto as_name = PeerActor("localhost:1", "a");
  table.Add(as_ip, ActorRef(w1));
  table.Add(as_name, ActorRef(w2));
  Watchers ended = table.OnTerminated(WatchKeyOf(*as_ip));
  ASSERT_EQ(ended.size(), 2u);
  EXPECT_EQ(ended[ActorRef(w1)], as_ip);
  EXPECT_EQ(ended[ActorRef(w2)], as_name);
  EXPECT_TRUE(table.empty());
  // TERMINATED came before WATCHED (the actor was gone): that WATCHED is
  // stale for a later watch.
  table.Add(as_ip, ActorRef(w1));
  EXPECT_TRUE(table.OnWatched(WatchKeyOf(*as_ip)).empty());
}

TEST(WatchTableTest, TakeAllHandsOverEveryWatchAndNodeDownReachesEach) {
  WatchTable table;
  auto w1 = std::make_shared<Recorder>("w1");
  auto w2 = std::make_shared<Recorder>("w2");
  table.Add(PeerActor("p:1", "a"), ActorRef(w1));
  table.Add(PeerActor("p:1", "b"), ActorRef(w1));
  table.Add(PeerActor("p:1", "b"), ActorRef(w2));
  auto all = table.TakeAll();
  EXPECT_TRUE(table.empty());
  NotifyAllDown(all);
  std::vector<SystemMessagePtr> to_w1 = w1->Take();
  std::vector<SystemMessagePtr> to_w2 = w2->Take();
  ASSERT_EQ(to_w1.size(), 2u);
  ASSERT_EQ(to_w2.size(), 1u);
  for (const SystemMessagePtr& notice : to_w1) {
    EXPECT_EQ(notice->kind, SystemKind::kTerminated);
    EXPECT_EQ(notice->reason, kNodeDown);
  }
}

TEST(InboundWatchesTest, OneEntryPerNamedActorUntilClosed) {
  auto table = std::make_shared<InboundWatches>();
  auto target = std::make_shared<Recorder>("t");
  auto stand_in = std::make_shared<Recorder>("s");
  const WatchKey key{"t", 1, 1};
  EXPECT_TRUE(table->Insert(key, {ActorRef(target), ActorRef(stand_in)}));
  EXPECT_FALSE(table->Insert(key, {ActorRef(target), ActorRef(stand_in)}));
  EXPECT_TRUE(table->Contains(key));
  table->RemoveIfWatcher(key, target.get());  // not its stand-in
  EXPECT_TRUE(table->Contains(key));
  table->RemoveIfWatcher(key, stand_in.get());
  EXPECT_FALSE(table->Contains(key));
  EXPECT_TRUE(table->Insert(key, {ActorRef(target), ActorRef(stand_in)}));
  EXPECT_EQ(table->Close().size(), 1u);
  EXPECT_FALSE(table->Insert(key, {ActorRef(target), ActorRef(stand_in)}))
      << "closed for good";
  EXPECT_FALSE(table->Remove(key).has_value());
}

}  // namespace
}  // namespace troupe
