// troupe_node: runs one troupe node until SIGINT/SIGTERM (or --run_for).
#include <pthread.h>
#include <signal.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/time.h"
#include "node/service/command_line.h"
#include "node/service/node_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7420",
          "host:port to listen on; port 0 picks a free port (the bound "
          "address is printed)");
ABSL_FLAG(std::string, advertise, "",
          "host:port that peers and refs use to reach this node (default: "
          "the bound address)");
ABSL_FLAG(absl::Duration, run_for, absl::ZeroDuration(),
          "stop after this long (e.g. 30s, 5m); 0 = until SIGINT/SIGTERM");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(2),
          "how long calls in flight may finish when stopping");

namespace {

// Waits for SIGINT/SIGTERM (already blocked in every thread) or until
// `run_for` has passed when it is positive. Returns the signal, or 0.
int AwaitStopSignal(const sigset_t& signals, absl::Duration run_for) {
  for (;;) {
    int sig = 0;
    if (run_for > absl::ZeroDuration()) {
      const timespec timeout = absl::ToTimespec(run_for);
      sig = sigtimedwait(&signals, nullptr, &timeout);
      if (sig < 0 && errno == EAGAIN) {
        return 0;
      }
    } else {
      sig = sigwaitinfo(&signals, nullptr);
    }
    if (sig > 0) {
      return sig;
    }
    // EINTR: another signal interrupted the wait; wait again. (With a
    // deadline this restarts the timeout, which only delays a stop that
    // was never requested by a signal.)
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args = troupe::ParseCommandLine(
      "runs a troupe node: a local actor runtime with a gRPC endpoint.\n"
      "  troupe_node --listen=127.0.0.1:7420\n"
      "Prints one line when ready; stops cleanly on SIGINT/SIGTERM.",
      argc, argv);
  if (!args.empty()) {
    std::fprintf(stderr, "troupe_node: unexpected argument '%s' (see --help)\n",
                 args[0].c_str());
    return 2;
  }

  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and only AwaitStopSignal receives them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  troupe::NodeServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.advertise = absl::GetFlag(FLAGS_advertise);
  auto node = troupe::NodeServer::Start(options);
  if (!node.ok()) {
    std::fprintf(stderr, "troupe_node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  std::printf("troupe node listening on %s incarnation %016llx\n",
              (*node)->address().c_str(),
              static_cast<unsigned long long>((*node)->incarnation()));
  std::fflush(stdout);

  const int sig = AwaitStopSignal(signals, absl::GetFlag(FLAGS_run_for));
  std::printf("troupe node %s: %s, shutting down\n", (*node)->address().c_str(),
              sig == SIGINT    ? "SIGINT"
              : sig == SIGTERM ? "SIGTERM"
                               : "--run_for elapsed");
  (*node)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  std::printf("troupe node stopped\n");
  return 0;
}
