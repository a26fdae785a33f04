// Kinds: actor types a node binary can spawn by name (ActorService.Spawn,
// `troupectl spawn`). A kind is registered once, in the binary that links
// it, with one line:
//
//   TROUPE_REGISTER_KIND("counter", "init Int64Value; CounterAdd, CounterGet",
//                        MakeCounter);
//
// where MakeCounter checks the spawn's init argument and returns the
// factory the actor (and each restart of it) is made from. The library
// that holds registrations must be linked whole (`alwayslink = True`), or
// the linker drops them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/actor.h"
#include "node/runtime/message.h"

namespace troupe {

// Makes the factory for one spawn from its init argument (null when the
// request had none). INVALID_ARGUMENT for an init it cannot use.
using KindMaker =
    std::function<absl::StatusOr<ActorFactory>(const google::protobuf::Any*)>;

struct Kind {
  std::string name;
  // One line for `--help`, Stats and the unknown-kind error: what the
  // actor does, its init and its messages.
  std::string description;
  KindMaker make;
  // The proto services its actors serve (typed actors, from the generated
  // FooActor::KindOf): the node's gRPC ingress serves each of them, and
  // routes a call naming the kind (troupe-kind) only when the kind serves
  // the call's service. Empty for an untyped kind.
  std::vector<const google::protobuf::ServiceDescriptor*> services;
};

class KindRegistry {
 public:
  // The registry TROUPE_REGISTER_KIND fills.
  static KindRegistry& Global();

  // ALREADY_EXISTS for a second kind of the same name, INVALID_ARGUMENT for
  // an empty name or no maker. Thread-safe.
  absl::Status Register(Kind kind);
  // The kind named `name`, or null. The pointer stays valid for the
  // registry's life. Thread-safe.
  const Kind* Find(absl::string_view name) const;
  // Every kind, sorted by name. Thread-safe.
  std::vector<const Kind*> All() const;
  // NOT_FOUND naming `name` and listing the known kinds.
  absl::Status UnknownKind(absl::string_view name) const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Kind>> kinds_ ABSL_GUARDED_BY(mu_);
};

// Registers in the global registry; a duplicate name is a programming error
// (logged, then the process aborts at start-up). For TROUPE_REGISTER_KIND.
bool RegisterKindOrDie(std::string name, std::string description,
                       KindMaker make);
bool RegisterKindOrDie(Kind kind);

// The init argument as a T: T's default when `init` is null, else
// INVALID_ARGUMENT unless it holds a T.
template <typename T>
absl::StatusOr<T> InitAs(absl::string_view kind,
                         const google::protobuf::Any* init) {
  T value;
  if (init == nullptr) {
    return value;
  }
  if (!init->UnpackTo(&value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kind '", kind, "' takes an init of type ",
        T::descriptor()->full_name(), ", not '", init->type_url(), "'"));
  }
  return value;
}

// A maker for an actor class with a default constructor that takes no init
// (an init is refused with INVALID_ARGUMENT).
template <typename A>
KindMaker NoInit(std::string kind) {
  return
      [kind](
          const google::protobuf::Any* init) -> absl::StatusOr<ActorFactory> {
        if (init != nullptr) {
          return absl::InvalidArgumentError(
              absl::StrCat("kind '", kind, "' takes no init"));
        }
        return ActorFactory([] { return std::unique_ptr<Actor>(new A()); });
      };
}

}  // namespace troupe

#define TROUPE_KIND_CONCAT_INNER(a, b) a##b
#define TROUPE_KIND_CONCAT(a, b) TROUPE_KIND_CONCAT_INNER(a, b)
// Registers a kind at start-up (see the top of this file).
#define TROUPE_REGISTER_KIND(name, description, make)                       \
  static const bool TROUPE_KIND_CONCAT(troupe_kind_registered_, __LINE__) = \
      ::troupe::RegisterKindOrDie(name, description, make)
// Registers a ready-made Kind at start-up, as a typed actor's generated
// FooActor::KindOf<A>("name") makes it.
#define TROUPE_REGISTER_ACTOR_KIND(kind)                                    \
  static const bool TROUPE_KIND_CONCAT(troupe_kind_registered_, __LINE__) = \
      ::troupe::RegisterKindOrDie(kind)
