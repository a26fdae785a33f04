// test_node: a node process for multi-process tests. Serves an actor named
// "echo" (replies with what it got), prints
//   ready <address> <incarnation>
// and runs until SIGTERM/SIGINT (graceful: leave, stop, exit 0) or death.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "node/remote/node.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/service/stop_signals.h"

int main(int argc, char** argv) {
  std::string listen = "127.0.0.1:0";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--listen=", 0) == 0) {
      listen = arg.substr(9);
    } else {
      std::fprintf(stderr, "test_node: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  const troupe::StopSignals stop_signals;

  troupe::NodeOptions options;
  options.listen = listen;
  auto node = troupe::Node::Start(options);
  if (!node.ok()) {
    std::fprintf(stderr, "test_node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  auto echo = (*node)->system().Spawn(
      troupe::FromBehavior(
          [](troupe::ActorContext& ctx, const troupe::Message& message) {
            ctx.Reply(troupe::CloneMessage(message));
            return absl::OkStatus();
          }),
      "echo");
  if (!echo.ok()) {
    std::fprintf(stderr, "test_node: %s\n", echo.status().ToString().c_str());
    return 1;
  }
  std::printf("ready %s %llu\n", (*node)->address().c_str(),
              static_cast<unsigned long long>((*node)->incarnation()));
  std::fflush(stdout);
  stop_signals.Await();
  (*node)->Shutdown(absl::Seconds(1));
  std::printf("stopped\n");
  return 0;
}
