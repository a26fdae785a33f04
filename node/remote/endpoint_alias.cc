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

#include "absl/strings/str_cat.h"
#include "node/remote/endpoint.h"
#include "node/remote/outbound_call.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// Stands for a watcher in a local actor's watcher set when the watch came
// through an alias of this node: it names the actor to the watcher as the
// watcher named it. It carries the watcher's Pid, so it is equal to any
// other stand-in for the same watcher (an Unwatch finds it).
class AliasWatcher final : public Process {
 public:
  AliasWatcher(ActorRef watcher, ActorRef named)
      : Process(MakeNodeAddress(watcher.address()), watcher.id(),
                watcher.incarnation(), watcher.uid()),
        watcher_(std::move(watcher)),
        named_(std::move(named)) {}

  void SendUser(EnvelopePtr /*envelope*/) override {}  // never a sender
  void SendSystem(SystemMessagePtr message) override {
    message->ref = named_;
    watcher_.process()->SendSystem(std::move(message));
  }
  bool IsTerminated() const override {
    return watcher_.process()->IsTerminated();
  }

 private:
  const ActorRef watcher_;
  const ActorRef named_;
};

}  // namespace

bool Endpoint::IsAliasHello(const v1::Hello& hello) const {
  return IsNodeAddress(hello.address()) &&
         (hello.incarnation() == remoting_->hello().incarnation() ||
          hello.address() != address());
}

bool Endpoint::alias() const {
  MutexLock lock(&mu_);
  return alias_ready_;
}

void Endpoint::BecomeAlias(const v1::Hello& hello) {
  const bool self = hello.incarnation() == remoting_->hello().incarnation();
  std::shared_ptr<Endpoint> canonical =
      self ? nullptr : remoting_->EndpointFor(hello.address());
  remoting_->AddAlias(address(), self ? "" : hello.address());
  remoting_->link_log().Log(
      LogSeverity::kInfo,
      absl::StrCat(address(), " is an alias of ",
                   self ? "this node" : hello.address(),
                   " (its handshake said so): its refs are served there"));
  std::shared_ptr<OutboundCall> call;
  WatchTable moved;
  {
    MutexLock lock(&mu_);
    // The call is taken before it is cancelled, so its end is not read
    // as the peer going down.
    call = std::move(call_);
    alias_of_ = std::move(canonical);
    alias_ready_ = true;
    moved.swap(watches_);
  }
  if (call != nullptr) {
    call->Cancel();
  }
  for (const auto& [key, entry] : moved) {
    for (const auto& [watcher, watchee] : entry.watchers) {
      ForwardWatch(watchee, watcher, /*watch=*/true);
    }
  }
  Kick();  // what was queued meanwhile goes on, in order
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
  LocalTarget(*watchee).process()->SendSystem(
      MakeSystem(watch ? SystemKind::kWatch : SystemKind::kUnwatch,
                 ActorRef(std::make_shared<AliasWatcher>(watcher, named))));
  if (watch) {
    // A local watch is in place once queued ahead of what comes later.
    watcher.process()->SendSystem(MakeSystem(SystemKind::kWatchInPlace, named));
  }
}

void Endpoint::ForwardQueue() {
  std::shared_ptr<Endpoint> canonical;
  {
    MutexLock lock(&mu_);
    canonical = alias_of_;
  }
  while (MpscNode* node = queue_.Pop()) {
    std::unique_ptr<OutItem> item(static_cast<OutItem*>(node));
    switch (item->kind) {
      case OutItem::Kind::kUser:
        queued_user_.fetch_sub(1, std::memory_order_relaxed);
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
}

}  // namespace troupe
