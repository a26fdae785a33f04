// ExampleCluster: the node processes an example runs on. An example is one
// binary in two roles. Run as the user runs it, it is node A, in process,
// and starts the other nodes as child processes of itself; each of those
// runs the same binary as a plain troupe node (NodeMain), so every node has
// the example's kinds. The children are stopped (SIGTERM, then reaped) when
// the cluster goes away.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/service/node_server.h"
#include "tests/testing/child_process.h"

namespace troupe::examples {

// An example's main: in the child role runs the node; otherwise parses the
// command line (`usage` for --help) and returns `run()`.
int ExampleMain(int argc, char** argv, const char* usage,
                const std::function<int()>& run);

// How the node processes are started.
struct NodeProcessOptions {
  // The program to run (given --example_role=node and --listen); empty =
  // this program.
  std::string binary;
  // More flags for every node process (e.g. --mailbox_capacity=1000).
  std::vector<std::string> flags;
  // Each node process joins node A's cluster (--seeds=<node A>).
  bool join_a = false;
  // Every node's failure threshold, node A's included (troupe_node
  // --failure_threshold, LinkOptions::failure_threshold); zero = the
  // default (600 ms). Tests that starve the nodes of CPU by design set a
  // larger one where they do not measure detection.
  absl::Duration failure_threshold = absl::ZeroDuration();
};

class ExampleCluster {
 public:
  // Starts node A in this process and `others` node processes. Unless
  // TROUPE_LOG is set, the nodes log errors only.
  static absl::StatusOr<std::unique_ptr<ExampleCluster>> Start(
      int others, NodeProcessOptions options = {});
  // Stops the child nodes (SIGTERM; SIGKILL after 10 s) and node A.
  ~ExampleCluster();

  NodeServer& a() { return *a_; }
  ActorSystem& system() { return a_->node().system(); }
  // The address of child node `i` (0-based).
  const std::string& node(size_t i) const { return children_[i].address; }
  size_t size() const { return children_.size(); }
  // The incarnation child node `i` printed when it started.
  const std::string& incarnation(size_t i) const {
    return children_[i].incarnation;
  }
  // The process id of child node `i`.
  pid_t pid(size_t i) const { return children_[i].process->pid(); }
  // kill -9 of child node `i`, and waits for it to die.
  void Kill(size_t i);
  // Sends `signo` to child node `i`.
  void Signal(size_t i, int signo);
  // Waits up to `timeout` for child node `i` to exit; its wait status.
  absl::StatusOr<int> Wait(size_t i, absl::Duration timeout);
  // The next line child node `i` prints that starts with `prefix`.
  absl::StatusOr<std::string> ReadLine(size_t i, const std::string& prefix,
                                       absl::Duration timeout);
  // Starts child node `i` again, on the address it had (after it died).
  absl::Status Restart(size_t i);

  // system().SpawnOn(node(i), kind, name, init, 30 s), waited for.
  absl::StatusOr<ActorRef> SpawnOn(
      size_t i, const std::string& kind, const std::string& name,
      const google::protobuf::Message* init = nullptr);

 private:
  struct Child {
    std::unique_ptr<testing::ChildProcess> process;
    std::string address;
    std::string incarnation;
  };

  // Starts a node process listening on `listen`; `which` names it in errors.
  absl::StatusOr<Child> StartChild(const std::string& listen, size_t which);

  NodeProcessOptions options_;
  std::unique_ptr<NodeServer> a_;
  std::vector<Child> children_;
};

// "HH:MM:SS.mmm", local time, for example output.
std::string Now();

}  // namespace troupe::examples
