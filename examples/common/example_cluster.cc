#include "examples/common/example_cluster.h"

#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "node/remote/link_options.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"
#include "node/service/command_line.h"
#include "node/service/kinds.h"
#include "node/service/node_main.h"

namespace troupe::examples {
namespace {

constexpr char kChildFlag[] = "--example_role=node";
constexpr char kReady[] = "troupe node listening on ";

absl::StatusOr<std::string> SelfPath() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  if (n <= 0) {
    return absl::InternalError("cannot find this program's path");
  }
  return std::string(path, static_cast<size_t>(n));
}

}  // namespace

int ExampleMain(int argc, char** argv, const char* usage,
                const std::function<int()>& run) {
  std::vector<char*> rest;
  bool child = false;
  for (int i = 0; i < argc; ++i) {
    if (std::strcmp(argv[i], kChildFlag) == 0) {
      child = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (child) {
    rest.push_back(nullptr);
    return NodeMain(static_cast<int>(rest.size()) - 1, rest.data());
  }
  ParseCommandLine(usage, argc, argv);
  return run();
}

absl::StatusOr<std::unique_ptr<ExampleCluster>> ExampleCluster::Start(
    int others, NodeProcessOptions options) {
  // An example's output is its story: the nodes log errors only, unless
  // the user asks for more (TROUPE_LOG=info). The children inherit it.
  if (std::getenv("TROUPE_LOG") == nullptr) {
    setenv("TROUPE_LOG", "error", 0);
    SetMinLogSeverity(LogSeverity::kError);
  }
  auto cluster = std::unique_ptr<ExampleCluster>(new ExampleCluster());
  if (options.binary.empty()) {
    absl::StatusOr<std::string> self = SelfPath();
    if (!self.ok()) {
      return self.status();
    }
    options.binary = *self;
  }
  NodeServerOptions a_options;
  a_options.listen = "127.0.0.1:0";
  if (options.failure_threshold != absl::ZeroDuration()) {
    if (absl::Status set =
            SetFailureThreshold(options.failure_threshold, &a_options.link);
        !set.ok()) {
      return set;
    }
    options.flags.push_back(
        absl::StrCat("--failure_threshold=",
                     absl::FormatDuration(options.failure_threshold)));
  }
  cluster->options_ = std::move(options);
  absl::StatusOr<std::unique_ptr<NodeServer>> a = NodeServer::Start(a_options);
  if (!a.ok()) {
    return a.status();
  }
  cluster->a_ = *std::move(a);
  for (int i = 0; i < others; ++i) {
    absl::StatusOr<Child> child =
        cluster->StartChild("127.0.0.1:0", static_cast<size_t>(i));
    if (!child.ok()) {
      return child.status();
    }
    cluster->children_.push_back(*std::move(child));
  }
  return cluster;
}

absl::StatusOr<ExampleCluster::Child> ExampleCluster::StartChild(
    const std::string& listen, size_t which) {
  std::vector<std::string> args = {kChildFlag, "--listen=" + listen};
  args.insert(args.end(), options_.flags.begin(), options_.flags.end());
  if (options_.join_a) {
    args.push_back("--seeds=" + a_->address());
  }
  auto process = testing::ChildProcess::Start(options_.binary, args);
  if (!process.ok()) {
    return process.status();
  }
  absl::StatusOr<std::string> ready =
      (*process)->ReadLineStartingWith(kReady, absl::Seconds(30));
  if (!ready.ok()) {
    return absl::UnavailableError(
        absl::StrCat("node process ", which + 1,
                     " did not start: ", ready.status().message()));
  }
  // "troupe node listening on ADDR incarnation N"
  std::vector<std::string> words =
      absl::StrSplit(ready->substr(std::strlen(kReady)), ' ');
  Child child;
  child.process = *std::move(process);
  child.address = words[0];
  child.incarnation = words.size() == 3 ? words[2] : "";
  return child;
}

ExampleCluster::~ExampleCluster() {
  for (Child& child : children_) {
    child.process->Signal(SIGTERM);
  }
  for (Child& child : children_) {
    (void)child.process->Wait(absl::Seconds(10));  // else killed when freed
  }
  children_.clear();
  a_.reset();
}

void ExampleCluster::Kill(size_t i) {
  children_[i].process->Signal(SIGKILL);
  (void)children_[i].process->Wait(absl::Seconds(10));
}

void ExampleCluster::Signal(size_t i, int signo) {
  children_[i].process->Signal(signo);
}

absl::StatusOr<int> ExampleCluster::Wait(size_t i, absl::Duration timeout) {
  return children_[i].process->Wait(timeout);
}

absl::StatusOr<std::string> ExampleCluster::ReadLine(size_t i,
                                                     const std::string& prefix,
                                                     absl::Duration timeout) {
  return children_[i].process->ReadLineStartingWith(prefix, timeout);
}

absl::Status ExampleCluster::Restart(size_t i) {
  absl::StatusOr<Child> child = StartChild(children_[i].address, i);
  if (!child.ok()) {
    return child.status();
  }
  children_[i] = *std::move(child);
  return absl::OkStatus();
}

absl::StatusOr<ActorRef> ExampleCluster::SpawnOn(
    size_t i, const std::string& kind, const std::string& name,
    const google::protobuf::Message* init) {
  return system().SpawnOn(node(i), kind, name, init, absl::Seconds(30)).get();
}

std::string Now() {
  return absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone());
}

}  // namespace troupe::examples
