#include "node/cluster/identity_directory.h"

#include <algorithm>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "node/cluster/identity_host.h"
#include "node/cluster/rendezvous.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/process.h"
#include "node/runtime/system_messages.h"
#include "proto/cluster.pb.h"

namespace troupe {

using runtime_internal::SystemInternals;

// The router: each message to the host of the identity's owner in this
// node's view; the target is worked out again only when the view changes
// (one atomic load per message otherwise).
class IdentityRouter final : public Process {
 public:
  IdentityRouter(std::shared_ptr<IdentityDirectory> directory,
                 std::string identity)
      : Process(SystemInternals::SharedAddress(directory->system()),
                IdentityRouterId(identity), 0),
        directory_(std::move(directory)),
        identity_(std::move(identity)) {}
  ~IdentityRouter() override { directory_->ForgetRouter(identity_); }

  void SendUser(EnvelopePtr envelope) override {
    Target().process()->SendUser(std::move(envelope));
  }
  void SendSystem(SystemMessagePtr message) override {
    if (ReachesActivation(*message)) {
      Target().process()->SendSystem(std::move(message));
    }
  }
  bool IsTerminated() const override { return false; }

 private:
  ActorRef Target() ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (target_ && view_ == directory_->View()) {
        return target_;
      }
    }
    uint64_t view = 0;
    const std::string owner = directory_->OwnerOf(identity_, &view);
    ActorSystem& system = directory_->system();
    ActorRef target =
        owner.empty() || owner == system.address()
            ? ActorRef(directory_->Host(identity_))
            : system.Resolve(Pid{owner, IdentityHostId(identity_)});
    absl::MutexLock lock(&mu_);
    if (!target_ || view >= view_) {  // never back to an older view
      view_ = view;
      target_ = std::move(target);
    }
    return target_;
  }

  const std::shared_ptr<IdentityDirectory> directory_;
  const std::string identity_;
  absl::Mutex mu_;
  uint64_t view_ ABSL_GUARDED_BY(mu_) = 0;
  ActorRef target_ ABSL_GUARDED_BY(mu_);
};

IdentityDirectory::IdentityDirectory(ActorSystem& system,
                                     ActivationFactory activate,
                                     absl::Duration passivate_after,
                                     std::unique_ptr<IdentityClaims> claims)
    : system_(system),
      activate_(std::move(activate)),
      passivate_after_(passivate_after),
      claims_(std::move(claims)) {
  up_.push_back(system.address());
}

IdentityDirectory::~IdentityDirectory() = default;

ActorRef IdentityDirectory::ResolveIdentity(absl::string_view id) {
  absl::string_view identity = id.substr(1);
  const bool host = absl::ConsumePrefix(&identity, "!");
  const size_t colon = identity.find(':');
  if (colon == absl::string_view::npos ||
      !ValidateIdentity(identity.substr(0, colon), identity.substr(colon + 1))
           .ok()) {
    return ActorRef();  // names no identity: a dead letter
  }
  if (host) {
    return ActorRef(Host(std::string(identity)));
  }
  absl::MutexLock lock(&mu_);
  std::weak_ptr<IdentityRouter>& slot = routers_[identity];
  std::shared_ptr<IdentityRouter> router = slot.lock();
  if (router == nullptr) {
    router = std::make_shared<IdentityRouter>(shared_from_this(),
                                              std::string(identity));
    slot = router;
  }
  return ActorRef(std::move(router));
}

std::shared_ptr<IdentityHost> IdentityDirectory::Host(
    const std::string& identity) {
  absl::MutexLock lock(&mu_);
  std::weak_ptr<IdentityHost>& slot = hosts_[identity];
  std::shared_ptr<IdentityHost> host = slot.lock();
  if (host == nullptr) {
    host = std::make_shared<IdentityHost>(shared_from_this(), identity);
    slot = host;
  }
  return host;
}

void IdentityDirectory::SetMembers(std::vector<std::string> up) {
  std::sort(up.begin(), up.end());
  absl::MutexLock lock(&mu_);
  if (up != up_) {
    up_ = std::move(up);
    view_number_.fetch_add(1, std::memory_order_acq_rel);
  }
}

std::string IdentityDirectory::OwnerOf(absl::string_view identity,
                                       uint64_t* view) const {
  absl::MutexLock lock(&mu_);
  *view = view_number_.load(std::memory_order_acquire);
  return RendezvousOwner(up_, identity);
}

void IdentityDirectory::Fence() {
  fences_.fetch_add(1, std::memory_order_acq_rel);
  std::vector<std::shared_ptr<IdentityHost>> hosts;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [identity, weak] : hosts_) {
      if (std::shared_ptr<IdentityHost> host = weak.lock()) {
        hosts.push_back(std::move(host));
      }
    }
  }
  for (const std::shared_ptr<IdentityHost>& host : hosts) {
    host->Fence();
  }
}

bool IdentityDirectory::AwaitNoActivations(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(
      absl::Condition(
          +[](int* active) { return *active == 0; }, &active_),
      timeout);
}

void IdentityDirectory::ActivationStarted() {
  absl::MutexLock lock(&mu_);
  ++active_;
}

void IdentityDirectory::ActivationEnded() {
  absl::MutexLock lock(&mu_);
  --active_;
}

void IdentityDirectory::ForgetHost(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  if (auto it = hosts_.find(identity);
      it != hosts_.end() && it->second.expired()) {
    hosts_.erase(it);
  }
}

void IdentityDirectory::ForgetRouter(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  if (auto it = routers_.find(identity);
      it != routers_.end() && it->second.expired()) {
    routers_.erase(it);
  }
}

std::string IdentityDirectory::NextCellName(const std::string& identity) {
  absl::MutexLock lock(&mu_);
  return absl::StrCat(identity, "#", ++cells_made_);
}

}  // namespace troupe
