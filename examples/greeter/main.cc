// greeter: actorio's hello world across two nodes. Node A spawns a Greeter
// on node B (by kind, through B's activator), asks it to greet "World",
// and prints the answer.
//
//   bazel run //examples/greeter [-- --name=Ada]
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/common/example_cluster.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/service/kinds.h"

ABSL_FLAG(std::string, name, "World", "who to greet");

namespace troupe::examples {
namespace {

// Answers a name with "Hello <name>!" (actorio's Greeter replies to the
// message's sender; here that is the asker).
class Greeter final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (Is<google::protobuf::StringValue>(message)) {
      ctx.Reply(Text(absl::StrCat("Hello ", TextOf(message), "!")));
    }
    return absl::OkStatus();
  }
};

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "greeter: %s\n", status.ToString().c_str());
  return 1;
}

int Run() {
  absl::StatusOr<std::unique_ptr<ExampleCluster>> cluster =
      ExampleCluster::Start(/*others=*/1);
  if (!cluster.ok()) {
    return Fail(cluster.status());
  }
  ActorSystem& system = (*cluster)->system();
  // Spawn the Greeter on node B by kind, through B's activator.
  absl::StatusOr<ActorRef> spawned =
      (*cluster)->SpawnOn(0, "greeter", "Greeter");
  if (!spawned.ok()) {
    return Fail(spawned.status());
  }
  const ActorRef greeter = *spawned;
  std::printf("node A (%s) asks the Greeter on node B: %s\n",
              (*cluster)->a().address().c_str(), greeter.ToString().c_str());

  // actorio's ask: the first reply, or an error after the timeout.
  absl::StatusOr<MessagePtr> reply =
      system.Ask(greeter, Text(absl::GetFlag(FLAGS_name)), absl::Seconds(5))
          .get();
  if (!reply.ok()) {
    return Fail(reply.status());
  }
  std::printf("%s\n", std::string(TextOf(**reply)).c_str());
  return 0;
}

}  // namespace
}  // namespace troupe::examples

TROUPE_REGISTER_KIND("greeter", "answers a name with \"Hello <name>!\"",
                     troupe::NoInit<troupe::examples::Greeter>("greeter"));

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(
      argc, argv,
      "actorio's hello world across two nodes: node A asks a Greeter on\n"
      "node B and prints the answer.\n"
      "  bazel run //examples/greeter [-- --name=Ada]",
      troupe::examples::Run);
}
