// Endpoint: this node's side of its link to one peer node. Every send to an
// actor of that peer goes through it. It composes:
//   - the writer (link_writer.h): one bounded queue and its write token;
//   - the link's states: connects on first use through its dialer
//     (link_transport.h), reconnects on the next send after a failure (at
//     once after a link that was up, with growing backoff after failed
//     attempts), and goes down or is left;
//   - the watch table (remote_watches.h);
//   - its call's part of the failure detector: a peer whose calls stay
//     silent past the threshold, or whose call ends, or who leaves, is
//     declared down: every watcher gets Terminated{NODE_DOWN} once, queued
//     messages become dead letters;
//   - aliases (endpoint_alias.cc).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/remote/link_state.h"
#include "node/remote/link_transport.h"
#include "node/remote/link_writer.h"
#include "node/remote/liveness.h"
#include "node/remote/peer_counters.h"
#include "node/remote/remote_watches.h"
#include "node/remote/round_trip.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/envelope.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"
#include "proto/troupe.pb.h"

namespace troupe {

class Remoting;

// One peer, as Remoting::stats reports it: the counters are its
// PeerCounters (peer_counters.h), which outlive its links.
struct EndpointStats {
  std::string address;
  LinkState state = LinkState::kIdle;  // the last seen, once forgotten
  uint64_t peer_incarnation = 0;
  uint64_t messages_sent = 0;
  uint64_t messages_received = 0;
  uint64_t frames_sent = 0;
  uint64_t frames_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  uint64_t dead_letters = 0;  // refused, oversized, or queued when down
  uint64_t overflows = 0;     // of those, refused by a full queue
  uint64_t downs = 0;
  size_t watched = 0;
  // The silence the failure detector allows the peer now (liveness.h);
  // zero when no call to or from it is open.
  absl::Duration allowance = absl::ZeroDuration();
  // The path's smoothed round trip (liveness.h); likewise.
  absl::Duration round_trip = absl::ZeroDuration();
  // kAlias: the canonical address this spelling reaches ("" = this node).
  std::string alias_of;
};

class Endpoint final : public std::enable_shared_from_this<Endpoint>,
                       public LinkWriter::Link,
                       public LinkCallEvents {
 public:
  // `remoting` must outlive the endpoint's use; `dialer` makes its calls;
  // `peer` is the peer's liveness record, and `counters` its traffic
  // record, which its calls to this node report to as well.
  Endpoint(Remoting* remoting, std::string address,
           std::unique_ptr<LinkDialer> dialer,
           std::shared_ptr<PeerLiveness> peer,
           std::shared_ptr<PeerCounters> counters);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  const std::string& address() const { return *address_; }
  const NodeAddress& shared_address() const { return address_; }

  // --- From RemoteProcess; thread-safe, never block. ---
  void SendUser(std::shared_ptr<Process> target, EnvelopePtr envelope);
  void SendStop(std::shared_ptr<Process> target);
  // `watcher` gets Terminated{watchee} once: with the actor's reason, or
  // NODE_DOWN. Idempotent per watcher-watchee pair.
  void Watch(std::shared_ptr<Process> watchee, const ActorRef& watcher);
  void Unwatch(const std::shared_ptr<Process>& watchee,
               const ActorRef& watcher);

  // Tells the peer that its watch of `pid` fired (from a RemoteWatcher).
  void SendTerminated(const v1::Pid& pid, v1::TerminationReason reason);
  // Tells the peer that its watch of `pid` is in place (queued before any
  // TERMINATED of it).
  void SendWatched(const v1::Pid& pid);
  // The peer placed our watch of `pid`: each of its watchers, and each
  // later one, gets kWatchInPlace.
  void OnWatched(const v1::Pid& pid);
  // A watch of ours fired at the peer (a TERMINATED from the peer).
  void OnTerminated(const v1::Pid& pid, v1::TerminationReason reason);

  // Queues a leave after everything queued; a no-op unless the link is up.
  void SendLeave();
  // True when nothing is queued or being written.
  bool Flushed() const;
  // True when the link is not up (never was, or is down), no call is open,
  // nothing is queued and nothing is watched: an endpoint no ref uses any
  // more can then be forgotten (Remoting does).
  bool Unused() const;
  // Sends a heartbeat if nothing was written since the last tick; when
  // `judge`, declares the peer down if its handshake is overdue or, once
  // the link is up, if the peer has been silent for too long on every
  // call (its PeerLiveness, liveness.h). From Remoting's ticker.
  void Tick(absl::Time now, bool judge);
  // Declares the peer down (see the banner): its calls are cut (this one
  // cancelled, its calls to this node closed).
  void Down(absl::string_view why);
  // The peer said it is leaving, and is taken at its word: this call's
  // writes are closed after the one in flight, so everything already
  // written reaches it, and its calls to this node end from its side,
  // after everything it wrote. Otherwise as Down.
  void Left(absl::string_view why);
  // For shutdown: turns what is queued into dead letters, refuses to
  // connect again, and closes the call's writes after the one in flight
  // (the peer ends the call once it has read everything).
  void Close();
  // For shutdown, after Close, when the peer has not ended the call in
  // time: cancels it.
  void Abort();
  // True while a call to the peer has not ended (what Abort would cancel).
  // Thread-safe.
  bool HasCalls() const;

  // Its link's state and watches; the counters are filled by
  // Remoting::stats.
  EndpointStats stats() const;
  // Keeps the link's state in its PeerCounters, for when it is forgotten.
  void RecordLastState();

  // An alias of this node: the stand-in for `watcher`'s watch of `key`
  // fired; it is forgotten (unless another stand-in replaced it).
  void ForgetLocalWatch(const ActorRef& watcher, const WatchKey& key,
                        const Process* stand_in);

  // LinkCallEvents: from the call.
  void OnCallWriteDone(LinkCall* call, bool ok) override;
  void OnCallFrame(LinkCall* call, const v1::Frame& frame,
                   size_t bytes) override;
  void OnCallMalformed(LinkCall* call, size_t bytes) override;
  void OnCallDone(LinkCall* call, const absl::Status& status) override;

  // LinkWriter::Link: from the writer's token holder.
  LinkWriter::Step NextStep(bool has_items) override;
  void Forward(std::vector<std::unique_ptr<OutItem>> items) override;
  void DeadLetter(std::shared_ptr<Process> target, EnvelopePtr envelope,
                  DeadLetterReason cause, absl::string_view why) override;
  bool RetryNow() override;

 private:
  void Enqueue(std::unique_ptr<OutItem> item) { writer_.Send(std::move(item)); }
  void Kick() { writer_.Kick(); }

  // Aliases (endpoint_alias.cc). A Hello that names another node than this
  // spelling's, or this node itself.
  bool IsAliasHello(const v1::Hello& hello) const;
  // Ends the call (taken from the link, which is an alias from then on),
  // and forwards the watches and what is queued.
  void BecomeAlias(const v1::Hello& hello, std::shared_ptr<LinkCall> call);
  void ForwardWatch(const std::shared_ptr<Process>& watchee,
                    const ActorRef& watcher, bool watch);
  // Down and Left: the link's end (`end`: Fail or Leave) and the watches
  // it fired; then, outside the lock, the log line and NODE_DOWN for each.
  struct Ending {
    LinkStateMachine::Ended link;
    absl::flat_hash_map<WatchKey, Watchers> fired;
  };
  using EndFn = LinkStateMachine::Ended (LinkStateMachine::*)(absl::string_view,
                                                              bool, absl::Time);
  Ending End(EndFn end, absl::string_view why);
  // Down without closing the peer's calls to this node.
  void FailLink(absl::string_view why);
  void AfterEnd(const Ending& ending, absl::string_view why);
  // This node's actor (or a dead ref) for a ref naming it by an alias.
  ActorRef LocalTarget(const Process& target) const;
  // Forwards (alias ready) or defers (while the table moves) a watch or
  // unwatch; false when the endpoint is not an alias.
  bool ForwardOrDeferWatch(const std::shared_ptr<Process>& watchee,
                           const ActorRef& watcher, bool watch);

  Remoting* const remoting_;
  const NodeAddress address_;
  const std::unique_ptr<LinkDialer> dialer_;
  const std::shared_ptr<PeerLiveness> peer_;
  const std::shared_ptr<PeerCounters> counters_;
  // This node's side of the round-trip measurement on its calls to the
  // peer (the writer stamps, OnCallFrame reads); before writer_.
  RoundTrip round_trip_;
  LinkWriter writer_;

  mutable Mutex mu_;
  LinkStateMachine link_ ABSL_GUARDED_BY(mu_);
  WatchTable watches_ ABSL_GUARDED_BY(mu_);
  // Set once, with the link an alias: the canonical endpoint (null when the
  // alias is this node's).
  bool alias_ready_ ABSL_GUARDED_BY(mu_) = false;
  std::shared_ptr<Endpoint> alias_of_ ABSL_GUARDED_BY(mu_);
  // While BecomeAlias moves the watch table, later watches and unwatches
  // wait here, in order, so none is overtaken by a moved one.
  struct DeferredWatch {
    std::shared_ptr<Process> watchee;
    ActorRef watcher;
    bool watch;
  };
  bool moving_watches_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<DeferredWatch> deferred_watches_ ABSL_GUARDED_BY(mu_);
  // An alias of this node: each watcher's stand-in in a local actor's
  // watcher set, by watcher and watched actor, so an unwatch finds it.
  absl::flat_hash_map<std::pair<ActorRef, WatchKey>, ActorRef> local_watches_
      ABSL_GUARDED_BY(mu_);
  // Used by the writer's token holder only (Forward): Remoting has been
  // told of the alias (after the backlog was forwarded, so a ref made from then
  // on never overtakes what was sent through this one before).
  bool alias_published_ = false;
};

}  // namespace troupe
