// Endpoint, part three: aliases. An endpoint is made for a spelling of a
// node's address (the text a ref carries). Its handshake says who answers
// there: when that is a node known by another address (the Hello's
// advertised address), or this node itself (its own incarnation), the
// spelling is an alias. Then this endpoint stops being a link: it ends its
// call and forwards everything, in order, to the canonical endpoint or to
// the local actors, and moves its watches there. So a node has one link
// and one watch table per peer, and local delivery for itself, whatever
// spellings its refs use; and every notice still names the watched actor
// as its watcher named it.
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/remote/endpoint.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// Stands for a watcher in a local actor's watcher set when the watch came
// through an alias of this node: it names the actor to the watcher as the
// watcher named it, and has an id of its own (the alias endpoint finds it
// again for an unwatch).
class AliasWatcher final : public Process {
 public:
  AliasWatcher(ActorSystem& system, std::string id,
               std::weak_ptr<Endpoint> alias, ActorRef watcher, ActorRef named)
      : Process(runtime_internal::SystemInternals::SharedAddress(system),
                std::move(id), system.incarnation()),
        alias_(std::move(alias)),
        watcher_(std::move(watcher)),
        named_(std::move(named)) {}

  void SendUser(EnvelopePtr /*envelope*/) override {}  // never a sender
  void SendSystem(SystemMessagePtr message) override {
    if (message->kind == SystemKind::kTerminated) {
      if (std::shared_ptr<Endpoint> alias = alias_.lock()) {
        alias->ForgetLocalWatch(watcher_, WatchKeyOf(*named_.process()), this);
      }
    }
    message->ref = named_;
    watcher_.process()->SendSystem(std::move(message));
  }
  bool IsTerminated() const override {
    return watcher_.process()->IsTerminated();
  }

 private:
  const std::weak_ptr<Endpoint> alias_;
  const ActorRef watcher_;
  const ActorRef named_;
};

}  // namespace

bool Endpoint::IsAliasHello(const v1::Hello& hello) const {
  return IsNodeAddress(hello.address()) &&
         (hello.incarnation() == remoting_->hello().incarnation() ||
          hello.address() != address());
}

void Endpoint::BecomeAlias(const v1::Hello& hello,
                           std::shared_ptr<LinkCall> call) {
  const bool self = hello.incarnation() == remoting_->hello().incarnation();
  std::shared_ptr<Endpoint> canonical =
      self ? nullptr : remoting_->EndpointFor(hello.address());
  absl::flat_hash_map<WatchKey, Watchers> moved;
  {
    MutexLock lock(&mu_);
    alias_of_ = std::move(canonical);
    alias_ready_ = true;
    moving_watches_ = true;
    moved = watches_.TakeAll();
  }
  if (call != nullptr) {
    call->Cancel();
  }
  for (const auto& [key, watchers] : moved) {
    for (const auto& [watcher, watchee] : watchers) {
      ForwardWatch(watchee, watcher, /*watch=*/true);
    }
  }
  // Watches and unwatches made meanwhile, in their order, after the moved
  // ones.
  for (;;) {
    std::vector<DeferredWatch> deferred;
    {
      MutexLock lock(&mu_);
      if (deferred_watches_.empty()) {
        moving_watches_ = false;
        break;
      }
      deferred.swap(deferred_watches_);
    }
    for (const DeferredWatch& op : deferred) {
      ForwardWatch(op.watchee, op.watcher, op.watch);
    }
  }
  Kick();  // what was queued goes on, in order (Forward)
}

bool Endpoint::ForwardOrDeferWatch(const std::shared_ptr<Process>& watchee,
                                   const ActorRef& watcher, bool watch) {
  {
    MutexLock lock(&mu_);
    if (!alias_ready_) {
      return false;
    }
    if (moving_watches_) {
      deferred_watches_.push_back(DeferredWatch{watchee, watcher, watch});
      return true;
    }
  }
  ForwardWatch(watchee, watcher, watch);
  return true;
}

ActorRef Endpoint::LocalTarget(const Process& target) const {
  return remoting_->system().ResolveLocal(target.id(), target.incarnation(),
                                          target.uid());
}

void Endpoint::ForwardWatch(const std::shared_ptr<Process>& watchee,
                            const ActorRef& watcher, bool watch) {
  std::shared_ptr<Endpoint> canonical;
  {
    MutexLock lock(&mu_);
    canonical = alias_of_;
  }
  if (canonical != nullptr) {
    if (watch) {
      canonical->Watch(watchee, watcher);
    } else {
      canonical->Unwatch(watchee, watcher);
    }
    return;
  }
  const ActorRef named(watchee);
  auto key = std::make_pair(watcher, WatchKeyOf(*watchee));
  ActorRef stand_in;
  {
    MutexLock lock(&mu_);
    auto it = local_watches_.find(key);
    if (watch) {
      if (it == local_watches_.end()) {
        stand_in = ActorRef(std::make_shared<AliasWatcher>(
            remoting_->system(), remoting_->NewWatcherId(), shared_from_this(),
            watcher, named));
        local_watches_.emplace(std::move(key), stand_in);
      }
    } else if (it != local_watches_.end()) {
      stand_in = std::move(it->second);
      local_watches_.erase(it);
    }
  }
  if (stand_in) {
    LocalTarget(*watchee).process()->SendSystem(MakeSystem(
        watch ? SystemKind::kWatch : SystemKind::kUnwatch, stand_in));
  }
  if (watch) {
    // A local watch is in place once queued ahead of what comes later (or
    // was already).
    watcher.process()->SendSystem(MakeSystem(SystemKind::kWatchInPlace, named));
  }
}

void Endpoint::ForgetLocalWatch(const ActorRef& watcher, const WatchKey& key,
                                const Process* stand_in) {
  MutexLock lock(&mu_);
  auto it = local_watches_.find(std::make_pair(watcher, key));
  if (it != local_watches_.end() && it->second.process() == stand_in) {
    local_watches_.erase(it);
  }
}

void Endpoint::Forward(std::vector<std::unique_ptr<OutItem>> items) {
  std::shared_ptr<Endpoint> canonical;
  {
    MutexLock lock(&mu_);
    canonical = alias_of_;
  }
  for (std::unique_ptr<OutItem>& item : items) {
    switch (item->kind) {
      case OutItem::Kind::kUser:
        if (canonical != nullptr) {
          canonical->SendUser(std::move(item->target),
                              std::move(item->envelope));
        } else {
          LocalTarget(*item->target)
              .process()
              ->SendUser(std::move(item->envelope));
        }
        break;
      case OutItem::Kind::kStop:
        if (canonical != nullptr) {
          canonical->SendStop(std::move(item->target));
        } else {
          LocalTarget(*item->target)
              .process()
              ->SendSystem(MakeSystem(SystemKind::kStop, ActorRef()));
        }
        break;
      case OutItem::Kind::kTerminated:
        if (canonical != nullptr) {
          canonical->SendTerminated(*item->pid, item->reason);
        }
        break;
      case OutItem::Kind::kWatched:
        if (canonical != nullptr) {
          canonical->SendWatched(*item->pid);
        }
        break;
      default:
        // Watches moved with the table; heartbeats and leaves belonged to
        // the link this endpoint no longer is.
        break;
    }
  }
  if (!alias_published_) {
    // Only now that what was sent through this spelling has gone on do
    // new refs of it go straight to the canonical endpoint (or locally):
    // none of theirs can overtake it.
    alias_published_ = true;
    const std::string target =
        canonical != nullptr ? canonical->address() : std::string();
    remoting_->AddAlias(address(), target);
    remoting_->link_log().Log(
        LogSeverity::kInfo,
        absl::StrCat(address(), " is an alias of ",
                     target.empty() ? "this node" : target,
                     " (its handshake said so): its refs are served there"));
  }
}

}  // namespace troupe
