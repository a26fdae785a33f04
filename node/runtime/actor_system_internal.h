// SystemInternals: the runtime's internal interface to an ActorSystem, for
// the parts of the node built on it: remoting (node/remote), the node's
// services (node/service) and the runtime's own reply processes (inbox,
// termination waiter). What a program may call is what actor_system.h shows
// as public; this header is what it may not, and Bazel keeps it so: its
// target, //node/runtime:actor_system_internal, is visible to //node/...
// only (abseil's `*_internal` pattern).
//
// Each call has the contract of the ActorSystem member it reaches (see the
// private section of actor_system.h); all are thread-safe except
// SetRemoteResolver (once, before the system is used) and
// SetIdentityResolver (once).
#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/dispatcher.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"
#include "node/runtime/remote_resolver.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/timer_scheduler.h"

namespace troupe::runtime_internal {

class SystemInternals {
 public:
  // How refs to other nodes are made; `resolver` must outlive the system.
  static void SetRemoteResolver(ActorSystem& system, RemoteResolver* resolver) {
    system.set_remote_resolver(resolver);
  }
  // How identity ids are resolved (the node's cluster); once.
  // False when one was installed before.
  static bool SetIdentityResolver(ActorSystem& system,
                                  std::shared_ptr<IdentityResolver> resolver) {
    return system.set_identity_resolver(std::move(resolver));
  }
  // True when `ref` names an actor or reply process of `system`'s node.
  static bool IsLocal(const ActorSystem& system, const ActorRef& ref) {
    return system.IsLocal(ref);
  }
  // True when `ref` is an actor of this node (not a reply process), alive
  // or not.
  static bool IsLocalActor(const ActorRef& ref) {
    return ActorSystem::IsLocalActor(ref);
  }
  // Makes a reply process reachable by id (replies from other nodes), and
  // forgets it; and a fresh, unguessable id with `prefix` for one.
  static void RegisterReply(ActorSystem& system,
                            const std::shared_ptr<Process>& process) {
    system.RegisterReply(process);
  }
  static void UnregisterReply(ActorSystem& system, const std::string& id) {
    system.UnregisterReply(id);
  }
  static std::string NewReplyId(ActorSystem& system, absl::string_view prefix) {
    return system.NewReplyId(prefix);
  }
  // The system's timer thread (callbacks must not block) and the node
  // address its processes share.
  static TimerScheduler& Timers(ActorSystem& system) { return system.timers(); }
  static const NodeAddress& SharedAddress(const ActorSystem& system) {
    return system.shared_address();
  }
  // The system's dispatcher, for a Dispatcher::CallerRuns scope.
  static Dispatcher& Workers(ActorSystem& system) {
    return system.dispatcher();
  }
  // Publishes a dead letter (see ActorSystem's DeadLetter).
  static void DeadLetter(ActorSystem& system, const ActorRef& target,
                         EnvelopePtr envelope, DeadLetterReason reason,
                         absl::string_view detail = "") {
    system.DeadLetter(target, std::move(envelope), reason, detail);
  }
};

}  // namespace troupe::runtime_internal
