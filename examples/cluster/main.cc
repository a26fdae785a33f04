// cluster: a virtual actor per key (README, "Virtual actors"), called from
// three members of one cluster, surviving the kill of a member.
//
// Three nodes form a cluster (B and C name A as their seed). A "page"
// counter per key is a virtual actor: nobody spawns it; the first visit
// activates it on the member that owns the key, and every later visit,
// from any member, reaches that one activation. A visitor actor on each
// node visits pages through the cluster (GetIdentity). Then the node that
// runs one page is killed (kill -9): the next visit activates that page on
// a surviving member, while the other pages go on counting.
//
//   bazel run //examples/cluster [-- --pages=5]
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/cluster/visits.pb.h"
#include "examples/common/example_cluster.h"
#include "node/cluster/cluster.h"
#include "node/cluster/identity.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/service/kinds.h"

ABSL_FLAG(int, pages, 5, "how many page counters (keys) to visit");

namespace troupe::examples {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);
const char* const kKeys[] = {"home", "about", "blog", "shop", "faq",
                             "jobs", "news",  "docs", "help"};

// The virtual actor: one per page; counts its visits and says where it
// runs. Its state lives in the activation's memory only.
class Page final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (Is<Visit>(message)) {
      Visits visits;
      visits.set_count(++count_);
      visits.set_node(ctx.Self().address());
      std::optional<Identity> me = IdentityOf(ctx.Self());
      visits.set_key(me ? me->key : "?");
      ctx.Reply(std::move(visits));
    }
    return absl::OkStatus();
  }

 private:
  int64_t count_ = 0;
};

// On each node: passes a visit on to the page it names, through this
// node's view of the cluster; the page answers the visit's sender.
class Visitor final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* visit = As<Visit>(message)) {
      absl::StatusOr<ActorRef> page =
          GetIdentity(ctx.System(), "page", visit->key());
      if (!page.ok()) {
        return page.status();
      }
      ctx.Forward(*page);
    }
    return absl::OkStatus();
  }
};

TROUPE_REGISTER_KIND(
    "page", "a page's visit counter (a virtual actor)",
    [](const google::protobuf::Any*) -> absl::StatusOr<ActorFactory> {
      return ActorFactory([] { return std::make_unique<Page>(); });
    });
TROUPE_REGISTER_KIND(
    "visitor", "passes a Visit on to its page",
    [](const google::protobuf::Any*) -> absl::StatusOr<ActorFactory> {
      return ActorFactory([] { return std::make_unique<Visitor>(); });
    });

// Until `system`'s node has `n` members up (its cluster actor's list).
bool WaitForMembers(ActorSystem& system, const std::string& node, int n) {
  const absl::Time deadline = absl::Now() + kWait;
  while (absl::Now() < deadline) {
    absl::StatusOr<MessagePtr> reply =
        system.Ask(ClusterActorOf(system, node), v1::MembersRequest(), kWait)
            .get();
    int up = 0;
    if (const auto* members =
            reply.ok() ? As<v1::MembersReply>(**reply) : nullptr) {
      for (const v1::Member& member : members->members()) {
        up += member.state() == v1::MEMBER_UP;
      }
    }
    if (up == n) {
      return true;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

int Run() {
  NodeProcessOptions options;
  options.join_a = true;  // B and C name A as their seed
  absl::StatusOr<std::unique_ptr<ExampleCluster>> started =
      ExampleCluster::Start(2, options);
  if (!started.ok()) {
    std::fprintf(stderr, "cluster: %s\n", started.status().ToString().c_str());
    return 1;
  }
  ExampleCluster& cluster = **started;
  ActorSystem& system = cluster.system();
  const std::vector<std::string> nodes = {cluster.a().address(),
                                          cluster.node(0), cluster.node(1)};
  const char* const letters[] = {"A", "B", "C"};
  auto letter = [&](const std::string& address) {
    for (int i = 0; i < 3; ++i) {
      if (nodes[i] == address) {
        return letters[i];
      }
    }
    return "?";
  };
  for (const std::string& node : nodes) {
    if (!WaitForMembers(system, node, 3)) {
      std::fprintf(stderr, "cluster: %s never saw 3 members up\n",
                   node.c_str());
      return 1;
    }
  }
  std::printf("cluster of 3 members: A %s, B %s, C %s\n", nodes[0].c_str(),
              nodes[1].c_str(), nodes[2].c_str());

  std::vector<ActorRef> visitors;
  absl::StatusOr<ActorRef> on_a = system.Spawn<Visitor>("visitor");
  absl::StatusOr<ActorRef> on_b = cluster.SpawnOn(0, "visitor", "visitor");
  absl::StatusOr<ActorRef> on_c = cluster.SpawnOn(1, "visitor", "visitor");
  for (auto* visitor : {&on_a, &on_b, &on_c}) {
    if (!visitor->ok()) {
      std::fprintf(stderr, "cluster: %s\n",
                   visitor->status().ToString().c_str());
      return 1;
    }
    visitors.push_back(**visitor);
  }

  const int pages = std::min<int>(absl::GetFlag(FLAGS_pages), 9);
  std::vector<std::string> runs_on(pages);
  auto visit = [&](int through, int page,
                   absl::Duration wait = kWait) -> absl::StatusOr<Visits> {
    Visit request;
    request.set_key(kKeys[page]);
    absl::StatusOr<MessagePtr> reply =
        system.Ask(visitors[through], std::move(request), wait).get();
    if (!reply.ok()) {
      return reply.status();
    }
    const auto* visits = As<Visits>(**reply);
    if (visits == nullptr) {
      return absl::InternalError("not a Visits");
    }
    return *visits;
  };
  std::printf(
      "\nthree visits to each page, from the visitors on A, B and C:\n");
  for (int round = 0; round < 3; ++round) {
    for (int page = 0; page < pages; ++page) {
      const int through = (round + page) % 3;
      absl::StatusOr<Visits> visits = visit(through, page);
      if (!visits.ok()) {
        std::fprintf(stderr, "cluster: %s\n",
                     visits.status().ToString().c_str());
        return 1;
      }
      runs_on[page] = visits->node();
      std::printf("  page:%-5s from %s -> visit %lld, counted on %s\n",
                  kKeys[page], letters[through],
                  static_cast<long long>(visits->count()),
                  letter(visits->node()));
    }
  }

  // The first page that runs on B or C: its node is killed.
  int victim_page = -1;
  for (int page = 0; page < pages && victim_page < 0; ++page) {
    if (runs_on[page] != nodes[0]) {
      victim_page = page;
    }
  }
  if (victim_page < 0) {
    std::printf("\nevery page runs on A (try more --pages); no kill\n");
    return 0;
  }
  const size_t victim = runs_on[victim_page] == nodes[1] ? 0 : 1;
  const int survivor = victim == 0 ? 2 : 1;
  std::printf("\n%s kill -9 of node %s, which runs page:%s\n", Now().c_str(),
              letters[victim + 1], kKeys[victim_page]);
  cluster.Kill(victim);

  // Visits through A until the page answers from a surviving member (the
  // first ones fail while the members have not yet seen the node down).
  // Each waits 2 s at most: a visit forwarded into the dying link is lost
  // with it (delivery is at most once), and the asker, which watches the
  // visitor on A and not the page, hears nothing; the caller retries.
  constexpr absl::Duration kRetryWait = absl::Seconds(2);
  const absl::Time killed = absl::Now();
  absl::StatusOr<Visits> again = visit(0, victim_page, kRetryWait);
  int failed = 0;
  for (; !again.ok() && absl::Now() - killed < kWait; ++failed) {
    if (failed == 0) {
      std::printf("  page:%s from A: %s; visiting again\n", kKeys[victim_page],
                  again.status().ToString().c_str());
    }
    absl::SleepFor(absl::Milliseconds(20));
    again = visit(0, victim_page, kRetryWait);
  }
  if (!again.ok()) {
    std::fprintf(stderr, "cluster: the page never came back: %s\n",
                 again.status().ToString().c_str());
    return 1;
  }
  std::printf(
      "%s page:%s from A -> visit %lld, counted on %s: a new activation "
      "(%d visits failed in between; its count lived in the killed node's "
      "memory)\n",
      Now().c_str(), kKeys[victim_page], static_cast<long long>(again->count()),
      letter(again->node()), failed);

  std::printf("\none more visit to each page, from the visitors on A and %s:\n",
              letters[survivor]);
  for (int page = 0; page < pages; ++page) {
    const int through = page % 2 == 0 ? 0 : survivor;
    absl::StatusOr<Visits> visits = visit(through, page);
    if (!visits.ok()) {
      std::fprintf(stderr, "cluster: %s\n", visits.status().ToString().c_str());
      return 1;
    }
    std::printf("  page:%-5s from %s -> visit %lld, counted on %s\n",
                kKeys[page], letters[through],
                static_cast<long long>(visits->count()),
                letter(visits->node()));
  }
  return 0;
}

}  // namespace
}  // namespace troupe::examples

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(
      argc, argv,
      "a virtual-actor counter per page, visited from three members of one\n"
      "cluster; a member is killed and its pages come back on another.\n"
      "  bazel run //examples/cluster [-- --pages=5]",
      troupe::examples::Run);
}
