// A virtual actor kind for tests and benchmarks: "counter", whose
// activations count the "add" (a StringValue) they get and answer
// "<node> <kind>:<key> <count>", recording starts, stops and messages in
// a shared Activations. Activations is thread-safe.
#pragma once

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "node/cluster/identity.h"
#include "node/runtime/actor_system.h"

namespace troupe::testing {

// What the activations did, across nodes and runs.
class Activations {
 public:
  void Started();
  void Stopped();
  void Handled();
  // Until `n` activations have stopped, or `timeout`.
  bool WaitStopped(int n, absl::Duration timeout = absl::Seconds(20));
  int started();
  int handled();

 private:
  bool Enough() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stopped_ >= wanted_stopped_;
  }
  absl::Mutex mu_;
  int started_ ABSL_GUARDED_BY(mu_) = 0;
  int stopped_ ABSL_GUARDED_BY(mu_) = 0;
  int handled_ ABSL_GUARDED_BY(mu_) = 0;
  int wanted_stopped_ ABSL_GUARDED_BY(mu_) = 0;
};

// ClusterOptions::activate for a node with the one kind "counter" (any
// other kind: NOT_FOUND naming it).
ActivationFactory CountingKind(std::shared_ptr<Activations> log);

// "add" asked of the identity `kind`:`key` through `system`: who answered.
struct Answer {
  std::string node;
  std::string identity;
  int count = 0;
};
absl::StatusOr<Answer> Add(ActorSystem& system, const std::string& key,
                           const std::string& kind = "counter",
                           absl::Duration timeout = absl::Seconds(20));

}  // namespace troupe::testing
