// Remoting: one node's links to its peers. It makes refs to remote actors
// (the runtime's RemoteResolver), serves NodeLink.Connect for peers that
// send to this node, keeps an Endpoint per peer address, runs the heartbeat
// and failure-detector tick, and on shutdown tells every peer it is leaving.
//
// A peer is declared down as a pair: when either direction fails (an
// outbound call silent, ended or left; an inbound call silent or left), the
// endpoint reports NODE_DOWN to its watchers and the peer's inbound calls
// are closed, so the peer sees its own link end and does the same.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/endpoint.h"
#include "node/remote/link_options.h"
#include "node/runtime/logging.h"
#include "node/runtime/remote_resolver.h"
#include "node/runtime/sync.h"
#include "node/runtime/timer_scheduler.h"
#include "proto/troupe.pb.h"

namespace grpc {
class Service;
}  // namespace grpc

namespace troupe {

class ActorSystem;
class InboundLink;

struct RemotingStats {
  // Every peer with a record (see Remoting::CountersOf), by address.
  std::vector<EndpointStats> peers;
  size_t inbound_links = 0;
  uint64_t malformed = 0;  // frames and envelopes skipped as malformed
};

class Remoting final : public RemoteResolver {
 public:
  // `system` (whose address is this node's advertised one) must outlive
  // the remoting. Nothing runs until Start().
  Remoting(ActorSystem* system, LinkOptions options);
  // Shutdown() if that has not happened.
  ~Remoting() override;
  Remoting(const Remoting&) = delete;
  Remoting& operator=(const Remoting&) = delete;

  // Starts the heartbeat / failure-detector tick.
  void Start();

  // RemoteResolver: a RemoteProcess on the peer's endpoint; this node's own
  // actor for a known alias of this node; a dead ref for an address that
  // is not host:port. A known alias of another node resolves to that
  // node's canonical endpoint. Thread-safe.
  ActorRef ResolveRemote(const Pid& pid) override;

  // Records that the address spelling `alias` reaches the node whose
  // advertised address is `canonical` ("" = this node): later refs that
  // spell it so are served by the canonical endpoint, or locally. Learnt
  // from handshakes (endpoint_alias.cc), and given for the address this
  // node is bound to. Thread-safe.
  void AddAlias(const std::string& alias, const std::string& canonical);

  // The endpoint for the peer at `address` (created on first use).
  // Thread-safe.
  std::shared_ptr<Endpoint> EndpointFor(absl::string_view address);
  // The liveness record of the peer at `address`, shared by every call to
  // and from it while any holds it (created on first use). Thread-safe.
  std::shared_ptr<PeerLiveness> LivenessOf(absl::string_view address);
  // The traffic record of the peer at `address` (made on first use; kept
  // while the node runs, see kMaxPeerRecords). Thread-safe.
  std::shared_ptr<PeerCounters> CountersOf(absl::string_view address);
  // Records kept for peers no link uses any more: beyond this many
  // records, one of those is dropped for each new peer (its counters
  // restart if it comes back; Prometheus' rate() reads a restart as one).
  // Bounds the memory and metric series a stream of distinct addresses
  // can make.
  static constexpr size_t kMaxPeerRecords = 1024;
  // Now, on the links' clock (LinkOptions::clock). Thread-safe.
  absl::Time Now() const { return clock_->Now(); }
  // The links' clock itself; lives as long as the node.
  const Clock& clock() const { return *clock_; }

  // Declares the peer at `address` down, both directions (see the banner;
  // `left`: it left gracefully, see Endpoint::Down).
  void PeerDown(const std::string& address, absl::string_view why,
                bool left = false);
  // Closes the inbound calls from `address` (part of declaring it down),
  // with ABORTED: the peer's endpoint reads that as "declared down by the
  // other side" (Endpoint::OnCallDone).
  void CloseInbound(const std::string& address, absl::string_view why);

  // Graceful leave: refuses new links, queues a leave behind everything
  // already queued for each connected peer and on each inbound call, and
  // waits up to `timeout` for those writes to finish.
  void Leave(absl::Duration timeout);
  // Ends every link: closes the writes of this node's calls and waits (up
  // to `read_wait`) for the peers to end every call, after reading what is
  // on them; then cancels and closes what is left, with a warning (what
  // those calls still carried is lost uncounted), and waits (up to 5 s)
  // until no outbound call is left. Idempotent.
  void Shutdown(absl::Duration read_wait);

  RemotingStats stats() const;

  // --- For the links. ---
  ActorSystem& system() { return *system_; }
  const LinkOptions& options() const { return options_; }
  // The cluster secret, for the links and the node's other services.
  ClusterAuth& auth() { return auth_; }
  // This node's Hello (address, incarnation, version).
  const v1::Hello& hello() const { return hello_; }
  bool closing() const { return closing_.load(std::memory_order_acquire); }
  void AddInbound(InboundLink* link);
  void RemoveInbound(InboundLink* link);
  // An id for the stand-in of a remote watcher.
  std::string NewWatcherId();
  // Counts a malformed frame or envelope from `peer`, on any call with it;
  // logs at most one line a second (with how many were not logged).
  void ReportMalformed(absl::string_view peer, absl::string_view what);
  // The same for a frame of `bytes` that does not parse, on either call.
  void ReportMalformedFrame(absl::string_view peer, size_t bytes);
  // For lines about links (up, down, refused): a few a second at most, so
  // that naming thousands of missing nodes cannot flood the log.
  LogLimiter& link_log() { return link_log_; }
  // Outbound calls alive (Shutdown waits for zero).
  void CallStarted();
  void CallEnded();

  // The NodeLink service to register with the node's gRPC server. Owned by
  // the caller; it refuses calls until Attach.
  static std::unique_ptr<grpc::Service> NewService();
  // Lets `service` (from NewService) hand calls to this remoting; nullptr
  // detaches (later calls are refused).
  static void Attach(grpc::Service* service, Remoting* remoting);

 private:
  std::shared_ptr<Endpoint> EndpointForLocked(absl::string_view address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<PeerLiveness> LivenessOfLocked(absl::string_view address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::shared_ptr<PeerCounters> CountersOfLocked(absl::string_view address)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Tick();
  // Drops the endpoints among `endpoints` that are Unused and that no one
  // else refers to (no ref, no call): a node named once and gone is
  // forgotten, so naming many such addresses costs nothing lasting.
  void ForgetUnused(std::vector<std::shared_ptr<Endpoint>> endpoints);
  std::vector<std::shared_ptr<Endpoint>> Endpoints() const;
  bool AllCallsEnded() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  ActorSystem* const system_;
  const LinkOptions options_;
  const Clock* const clock_;
  ClusterAuth auth_;
  v1::Hello hello_;
  std::atomic<bool> closing_{false};
  std::atomic<uint64_t> next_watcher_{1};
  std::atomic<uint64_t> malformed_{0};
  LogLimiter malformed_log_{"remote", 1, absl::Seconds(1)};
  LogLimiter link_log_{"remote", 10, absl::Seconds(1)};

  mutable Mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<Endpoint>> endpoints_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<InboundLink*> inbound_ ABSL_GUARDED_BY(mu_);
  // Address spellings known to reach another node's advertised address, or
  // this node ("").
  absl::flat_hash_map<std::string, std::string> aliases_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::weak_ptr<PeerLiveness>> liveness_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::shared_ptr<PeerCounters>> counters_
      ABSL_GUARDED_BY(mu_);
  int calls_alive_ ABSL_GUARDED_BY(mu_) = 0;

  // The tick runs under tick_mu_, so Shutdown can wait a running one out.
  Mutex tick_mu_;
  TimerHandle ticker_ ABSL_GUARDED_BY(tick_mu_);
  bool stopped_ ABSL_GUARDED_BY(tick_mu_) = false;
  absl::Time last_tick_ ABSL_GUARDED_BY(tick_mu_) = absl::InfinitePast();
};

}  // namespace troupe
