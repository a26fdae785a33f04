// Listing a node's actors a page at a time, and inspecting one
// (ActorSystem::ListActors and Inspect; README "Operations").
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using testing::BlockedActor;
using testing::kWait;
using testing::Lambda;
using testing::StopAndAwait;

ActorFactory Quiet() {
  return Lambda([](ActorContext& ctx, const Message& message) {
    if (IsText(message, "sync")) {
      ctx.Reply("synced");
    }
    return absl::OkStatus();
  });
}

// Every page of a listing, concatenated; fails the test on an error or a
// listing that does not end.
std::vector<ActorSnapshot> ListAll(const ActorSystem& system,
                                   absl::string_view kind, size_t page_size,
                                   int* pages = nullptr) {
  std::vector<ActorSnapshot> all;
  std::string token;
  for (int page = 1; page < 100000; ++page) {
    absl::StatusOr<ActorPage> listed =
        system.ListActors(kind, page_size, token);
    EXPECT_TRUE(listed.ok()) << listed.status();
    if (!listed.ok()) {
      return all;
    }
    EXPECT_LE(listed->actors.size(), page_size);
    all.insert(all.end(), listed->actors.begin(), listed->actors.end());
    token = listed->next_page_token;
    if (token.empty()) {
      if (pages != nullptr) {
        *pages = page;
      }
      return all;
    }
  }
  ADD_FAILURE() << "the listing did not end";
  return all;
}

TEST(IntrospectionTest, PagesListEveryActorOnceWithItsKind) {
  ActorSystem system;
  SpawnOptions a, b;
  a.kind = "a";
  b.kind = "b";
  std::set<std::string> expected;
  for (int i = 0; i < 1200; ++i) {
    auto ref = i % 3 == 0 ? system.Spawn(Quiet(), absl::StrCat("named-", i), b)
                          : system.Spawn(Quiet(), "", a);
    ASSERT_TRUE(ref.ok());
    expected.insert(ref->id());
  }
  int pages = 0;
  const std::vector<ActorSnapshot> all = ListAll(system, "", 100, &pages);
  std::multiset<std::string> listed;
  size_t of_b = 0;
  for (const ActorSnapshot& actor : all) {
    listed.insert(actor.id);
    of_b += actor.kind == "b" ? 1 : 0;
  }
  EXPECT_EQ(listed.size(), expected.size());
  EXPECT_EQ(std::set<std::string>(listed.begin(), listed.end()), expected);
  EXPECT_EQ(of_b, 400u);
  EXPECT_GE(pages, 12);

  const std::vector<ActorSnapshot> only_b = ListAll(system, "b", 7);
  EXPECT_EQ(only_b.size(), 400u);
  for (const ActorSnapshot& actor : only_b) {
    EXPECT_EQ(actor.kind, "b");
  }
  EXPECT_TRUE(ListAll(system, "nothing of this kind", 10).empty());
  EXPECT_EQ(system.ListActors("", 10, "not a token").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(IntrospectionTest,
     ActorsAliveThroughoutAreListedOnceWhileOthersComeAndGo) {
  ActorSystem system;
  std::set<std::string> stable;
  for (int i = 0; i < 500; ++i) {
    auto ref = system.Spawn(Quiet(), i % 2 ? "" : absl::StrCat("s", i));
    ASSERT_TRUE(ref.ok());
    stable.insert(ref->id());
  }
  std::multiset<std::string> listed;
  std::string token;
  int churn = 0;
  do {
    absl::StatusOr<ActorPage> page = system.ListActors("", 50, token);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const ActorSnapshot& actor : page->actors) {
      listed.insert(actor.id);
    }
    token = page->next_page_token;
    // Between pages: new actors, and some of them gone again.
    for (int i = 0; i < 20; ++i, ++churn) {
      auto ref =
          system.Spawn(Quiet(), churn % 2 ? "" : absl::StrCat("c", churn));
      ASSERT_TRUE(ref.ok());
      if (i % 2 == 0) {
        StopAndAwait(system, *ref);
      }
    }
  } while (!token.empty());
  for (const std::string& id : stable) {
    EXPECT_EQ(listed.count(id), 1u) << id;
  }
  for (const std::string& id : listed) {
    EXPECT_EQ(listed.count(id), 1u) << id << " listed twice";
  }
}

// A page is also bounded by bytes (Registry::kListPageBytes): 10,000 actors
// of 255-byte names would be 2.6 MB, near gRPC's 4 MiB limit, and an id
// nested under parents is longer still. Every actor is still listed once,
// in pages that each stay under the bound. The names hold bytes that are
// not UTF-8 and characters a shell reads: the tokens that resume in them
// are plain ASCII all the same.
TEST(IntrospectionTest, PagesOfLongIdsStayUnderTheByteBound) {
  ActorSystem system;
  constexpr int kActors = 6000;
  std::set<std::string> expected;
  // Half named, half generated ids under a long kind name: pages are cut
  // by bytes in both halves of a shard.
  SpawnOptions long_kind;
  long_kind.kind = std::string(2000, 'k');  // most of the bytes
  for (int i = 0; i < kActors; ++i) {
    std::string name = absl::StrCat(i, "-\xfe\xff'$`;*-");
    name.resize(255, 'x');
    auto ref = i % 2 == 0 ? system.Spawn(Quiet(), name)
                          : system.Spawn(Quiet(), "", long_kind);
    ASSERT_TRUE(ref.ok()) << ref.status();
    expected.insert(ref->id());
  }
  bool cut_in_serials = false;
  std::multiset<std::string> listed;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<ActorPage> page = system.ListActors("", 10000, token);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    size_t bytes = 0;
    for (const ActorSnapshot& actor : page->actors) {
      listed.insert(actor.id);
      bytes += actor.id.size() + actor.kind.size();
    }
    EXPECT_LE(bytes, Registry::kListPageBytes);
    EXPECT_FALSE(page->actors.empty() && !page->next_page_token.empty() &&
                 bytes < Registry::kListPageBytes / 2)
        << "a page cut well short of the bound: " << bytes << " bytes";
    token = page->next_page_token;
    cut_in_serials |=
        absl::StrContains(token, ".s") && !absl::EndsWith(token, ".s0");
    for (const char c : token) {
      EXPECT_TRUE(absl::ascii_isalnum(c) || c == '.' || c == '-' || c == '_')
          << "token " << token;
    }
  } while (!token.empty() && pages < 1000);
  EXPECT_GE(pages, 2);
  EXPECT_TRUE(cut_in_serials) << "no page ended among the generated ids";
  for (const std::string& id : expected) {
    EXPECT_EQ(listed.count(id), 1u) << id;
  }
}

TEST(IntrospectionTest, InspectShowsDepthWatchersChildrenAndParent) {
  ActorSystem system;
  BlockedActor blocked(system);
  for (int i = 0; i < 5; ++i) {
    system.Tell(blocked.ref(), "queued");
  }
  absl::StatusOr<ActorDetail> busy = system.Inspect(blocked.ref().id());
  ASSERT_TRUE(busy.ok()) << busy.status();
  // Five queued behind the one being handled (which an unbounded mailbox
  // counts as taken only once its run ends).
  EXPECT_GE(busy->actor.mailbox_depth, 5u);
  EXPECT_LE(busy->actor.mailbox_depth, 6u);
  blocked.Release();

  auto parent = system.Spawn(
      Lambda([](ActorContext& ctx, const Message& message) {
        if (IsText(message, "spawn")) {
          for (int i = 0; i < 3; ++i) {
            if (!ctx.Spawn(Quiet(), absl::StrCat("child", i)).ok()) {
              return absl::InternalError("spawn failed");
            }
          }
          ctx.Reply("spawned");
        } else if (IsText(message, "sync")) {
          ctx.Reply("synced");
        }
        return absl::OkStatus();
      }),
      "parent");
  ASSERT_TRUE(parent.ok());
  ASSERT_TRUE(system.Ask(*parent, "spawn", kWait).get().ok());
  Inbox watcher(system);
  watcher.Watch(*parent);
  // System messages go first: once this ask is answered the watch is in.
  ASSERT_TRUE(system.Ask(*parent, "sync", kWait).get().ok());

  absl::StatusOr<ActorDetail> detail = system.Inspect("parent");
  ASSERT_TRUE(detail.ok()) << detail.status();
  EXPECT_EQ(detail->actor.id, "parent");
  EXPECT_EQ(detail->actor.uid, parent->uid());
  EXPECT_EQ(detail->parent, "");
  EXPECT_EQ(detail->watchers, 1u);
  EXPECT_EQ(detail->children_count, 3u);
  EXPECT_EQ(
      std::set<std::string>(detail->children.begin(), detail->children.end()),
      (std::set<std::string>{"parent/child0", "parent/child1",
                             "parent/child2"}));
  // "spawn" and "sync": counted once the run that handled them has ended
  // (an unbounded mailbox publishes its count per run), soon after the
  // reply went out.
  const absl::Time deadline = absl::Now() + kWait;
  uint64_t handled = 0;
  while ((handled = system.Inspect("parent")->actor.handled) != 2 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_EQ(handled, 2u);

  absl::StatusOr<ActorDetail> child = system.Inspect("parent/child1");
  ASSERT_TRUE(child.ok()) << child.status();
  EXPECT_EQ(child->parent, "parent");
  EXPECT_EQ(child->children_count, 0u);
  EXPECT_EQ(system.Inspect("nobody").status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace troupe
