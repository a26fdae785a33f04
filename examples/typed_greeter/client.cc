// The C++ side of typed_greeter: through the SDK, a typed ref calls the
// Greeter as a method, with a future. It spawns a greeter on node B
// through node A and greets it.
//
//   client --node=A_HOST:PORT --on=B_HOST:PORT
#include "sdk/client.h"

#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "examples/typed_greeter/greeter.troupe.h"

ABSL_FLAG(std::string, node, "", "the node to connect to (host:port)");
ABSL_FLAG(std::string, on, "",
          "the node to spawn the greeter on (default: --node)");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Greets a Greeter actor through the C++ SDK's typed ref.\n"
      "  client --node=HOST:PORT [--on=HOST:PORT]");
  absl::ParseCommandLine(argc, argv);
  troupe::ClientOptions options;
  options.node = absl::GetFlag(FLAGS_node);
  absl::StatusOr<std::unique_ptr<troupe::Client>> client =
      troupe::Client::Connect(options);
  if (!client.ok()) {
    std::fprintf(stderr, "client: %s\n", client.status().ToString().c_str());
    return 1;
  }
  const absl::Duration timeout = absl::Seconds(5);
  absl::StatusOr<troupe::ActorRef> spawned =
      (*client)
          ->SpawnOn(absl::GetFlag(FLAGS_on), "greeter", "", nullptr, timeout)
          .get();
  if (!spawned.ok()) {
    std::fprintf(stderr, "client: spawn: %s\n",
                 spawned.status().ToString().c_str());
    return 1;
  }
  troupe::examples::GreeterRef greeter(**client, *spawned);
  for (const char* name : {"Ada", "Grace"}) {
    troupe::examples::HelloRequest request;
    request.set_name(name);
    absl::StatusOr<troupe::examples::HelloReply> reply =
        greeter.Greet(request, timeout).get();
    if (!reply.ok()) {
      std::fprintf(stderr, "client: Greet: %s\n",
                   reply.status().ToString().c_str());
      return 1;
    }
    std::printf("c++: %s (from %s, greeting %d)\n", reply->message().c_str(),
                reply->greeter().c_str(), reply->count());
  }
  // An error the actor answers with comes back as the call's status.
  absl::StatusOr<troupe::examples::HelloReply> refused =
      greeter.Greet(troupe::examples::HelloRequest(), timeout).get();
  std::printf("c++: empty name: %s\n", refused.status().ToString().c_str());
  return 0;
}
