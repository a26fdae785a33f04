#include "node/remote/remoting.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/service_type.h>

#include <utility>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "node/remote/inbound_link.h"
#include "node/remote/outbound_call.h"
#include "node/remote/remote_process.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/ask_process.h"
#include "node/runtime/logging.h"
#include "node/runtime/version.h"
#include "proto/troupe.grpc.pb.h"

namespace troupe {
namespace {

// NodeLink.Connect with raw frames: InboundLink parses them itself, so a
// frame that does not parse is skipped rather than failing the call.
class LinkService final : public v1::NodeLink::WithRawCallbackMethod_Connect<
                              v1::NodeLink::Service> {
 public:
  grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>* Connect(
      grpc::CallbackServerContext* context) override {
    Remoting* attached = remoting.load(std::memory_order_acquire);
    if (attached != nullptr) {
      if (absl::Status allowed = attached->auth().CheckLink(*context);
          !allowed.ok()) {
        attached->link_log().Log(
            LogSeverity::kWarning,
            absl::StrCat("refused a node link from ", context->peer(), ": ",
                         allowed.message(),
                         " (give every node the same --secret_file, and with "
                         "TLS certificates from the same CA)"));
        return new Refused(grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                                        std::string(allowed.message())));
      }
    }
    return new InboundLink(attached);
  }

  std::atomic<Remoting*> remoting{nullptr};

 private:
  // A call refused before it started.
  class Refused final
      : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
   public:
    explicit Refused(const grpc::Status& status) { Finish(status); }
    void OnDone() override { delete this; }
  };
};

}  // namespace

std::unique_ptr<grpc::Service> Remoting::NewService() {
  return std::make_unique<LinkService>();
}

void Remoting::Attach(grpc::Service* service, Remoting* remoting) {
  static_cast<LinkService*>(service)->remoting.store(remoting,
                                                     std::memory_order_release);
}

Remoting::Remoting(ActorSystem* system, LinkOptions options)
    : system_(system),
      options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &Clock::Real()),
      auth_(options_.secret, options_.tls) {
  hello_.set_address(system_->address());
  hello_.set_incarnation(system_->incarnation());
  hello_.set_version(kTroupeVersion);
  hello_.set_max_message_bytes(options_.max_message_bytes);
  hello_.set_max_frame_bytes(MaxFrameBytes(options_));
}

Remoting::~Remoting() { Shutdown(absl::Milliseconds(2500)); }

void Remoting::Start() {
  MutexLock lock(&tick_mu_);
  if (stopped_ || ticker_) {
    return;
  }
  ticker_ =
      runtime_internal::SystemInternals::Timers(*system_).SchedulePeriodic(
          options_.heartbeat_interval, options_.heartbeat_interval, [this] {
            Tick();
            return true;
          });
}

ActorRef Remoting::ResolveRemote(const Pid& pid) {
  if (!IsNodeAddress(pid.address)) {
    return ActorRef(std::make_shared<DeadProcess>(
        system_, MakeNodeAddress(pid.address), pid.id, pid.incarnation, pid.uid,
        "the ref's address is not host:port"));
  }
  std::shared_ptr<Endpoint> endpoint;
  {
    MutexLock lock(&mu_);
    absl::string_view canonical = pid.address;
    if (auto it = aliases_.find(pid.address); it != aliases_.end()) {
      canonical = it->second;
    }
    if (!canonical.empty()) {
      endpoint = EndpointForLocked(canonical);
    }
  }
  if (endpoint == nullptr) {  // an alias of this node
    return system_->ResolveLocal(pid.id, pid.incarnation, pid.uid);
  }
  return ActorRef(std::make_shared<RemoteProcess>(std::move(endpoint), pid.id,
                                                  pid.incarnation, pid.uid));
}

void Remoting::AddAlias(const std::string& alias,
                        const std::string& canonical) {
  MutexLock lock(&mu_);
  aliases_[alias] = canonical;
}

std::shared_ptr<Endpoint> Remoting::EndpointFor(absl::string_view address) {
  MutexLock lock(&mu_);
  return EndpointForLocked(address);
}

std::shared_ptr<Endpoint> Remoting::EndpointForLocked(
    absl::string_view address) {
  auto [it, added] = endpoints_.try_emplace(address, nullptr);
  if (added) {
    it->second = std::make_shared<Endpoint>(
        this, std::string(address),
        std::make_unique<GrpcDialer>(std::string(address), options_, auth_),
        LivenessOfLocked(address), CountersOfLocked(address));
  }
  return it->second;
}

std::shared_ptr<PeerCounters> Remoting::CountersOf(absl::string_view address) {
  MutexLock lock(&mu_);
  return CountersOfLocked(address);
}

std::shared_ptr<PeerCounters> Remoting::CountersOfLocked(
    absl::string_view address) {
  if (auto it = counters_.find(address); it != counters_.end()) {
    return it->second;
  }
  if (counters_.size() >= kMaxPeerRecords) {
    // Only this table holds it: no endpoint, call or link uses it.
    auto unused = absl::c_find_if(counters_, [](const auto& entry) {
      return entry.second.use_count() == 1;
    });
    if (unused != counters_.end()) {
      counters_.erase(unused);
    }
  }
  auto counters = std::make_shared<PeerCounters>();
  counters_.emplace(address, counters);
  return counters;
}

std::shared_ptr<PeerLiveness> Remoting::LivenessOf(absl::string_view address) {
  MutexLock lock(&mu_);
  return LivenessOfLocked(address);
}

std::shared_ptr<PeerLiveness> Remoting::LivenessOfLocked(
    absl::string_view address) {
  std::weak_ptr<PeerLiveness>& slot = liveness_[address];
  std::shared_ptr<PeerLiveness> peer = slot.lock();
  if (peer == nullptr) {
    peer = std::make_shared<PeerLiveness>(Now());
    slot = peer;
  }
  return peer;
}

std::vector<std::shared_ptr<Endpoint>> Remoting::Endpoints() const {
  std::vector<std::shared_ptr<Endpoint>> all;
  MutexLock lock(&mu_);
  all.reserve(endpoints_.size());
  for (const auto& [address, endpoint] : endpoints_) {
    all.push_back(endpoint);
  }
  return all;
}

void Remoting::PeerDown(const std::string& address, absl::string_view why,
                        bool left) {
  std::shared_ptr<Endpoint> endpoint;
  {
    MutexLock lock(&mu_);
    if (auto it = endpoints_.find(address); it != endpoints_.end()) {
      endpoint = it->second;
    }
  }
  if (endpoint != nullptr) {
    if (left) {
      endpoint->Left(why);
    } else {
      endpoint->Down(why);
    }
  } else if (!left) {
    CloseInbound(address, why);
  }
}

void Remoting::CloseInbound(const std::string& address, absl::string_view why) {
  MutexLock lock(&mu_);
  for (InboundLink* link : inbound_) {
    if (link->peer_address() == address) {
      // ABORTED (not UNAVAILABLE): the peer learns that this node declared
      // it down, so it need not close this node's newer calls in turn.
      link->Close(
          grpc::Status(grpc::StatusCode::ABORTED,
                       absl::StrCat("node ", system_->address(), " declared ",
                                    address, " down: ", why)));
    }
  }
}

void Remoting::AddInbound(InboundLink* link) {
  MutexLock lock(&mu_);
  inbound_.insert(link);
}

void Remoting::RemoveInbound(InboundLink* link) {
  MutexLock lock(&mu_);
  inbound_.erase(link);
}

std::string Remoting::NewWatcherId() {
  return absl::StrCat("$watcher",
                      next_watcher_.fetch_add(1, std::memory_order_relaxed));
}

void Remoting::ReportMalformed(absl::string_view peer, absl::string_view what) {
  malformed_.fetch_add(1, std::memory_order_relaxed);
  malformed_log_.Log(LogSeverity::kWarning,
                     absl::StrCat("link with ", peer, ": ", what,
                                  " (corrupt data, or a peer of another "
                                  "troupe version: run the same version on "
                                  "every node)"),
                     {{"peer", peer}});
}

void Remoting::ReportMalformedFrame(absl::string_view peer, size_t bytes) {
  ReportMalformed(peer, absl::StrCat("skipped a frame of ", bytes,
                                     " bytes that does not parse"));
}

bool Remoting::AllCallsEnded() const {
  return calls_alive_ == 0 && inbound_.empty();
}

void Remoting::CallStarted() {
  MutexLock lock(&mu_);
  ++calls_alive_;
}

void Remoting::CallEnded() {
  MutexLock lock(&mu_);
  --calls_alive_;
}

void Remoting::Tick() {
  MutexLock tick(&tick_mu_);
  if (stopped_) {
    return;
  }
  const absl::Time now = Now();
  // A tick much later than due means this process was paused (or starved):
  // silence measured across the pause says nothing about the peers, so the
  // detector waits one more tick for the readers to catch up.
  const bool judge = now - last_tick_ < options_.failure_threshold / 2;
  last_tick_ = now;
  // Every call to or from a peer reports to the peer's one liveness
  // record (liveness.h); each call judges it, with its own handshake.
  std::vector<std::shared_ptr<Endpoint>> endpoints = Endpoints();
  for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
    endpoint->Tick(now, judge);
  }
  std::vector<std::pair<std::string, std::string>> downs;
  {
    MutexLock lock(&mu_);
    for (InboundLink* link : inbound_) {
      if (std::optional<std::string> why = link->Tick(now, judge)) {
        downs.emplace_back(link->peer_address(), std::move(*why));
      }
    }
  }
  for (const auto& [address, why] : downs) {
    PeerDown(address, why);
  }
  ForgetUnused(std::move(endpoints));
}

void Remoting::ForgetUnused(std::vector<std::shared_ptr<Endpoint>> endpoints) {
  {
    // Records no call or endpoint holds any more.
    MutexLock lock(&mu_);
    absl::erase_if(liveness_,
                   [](const auto& entry) { return entry.second.expired(); });
  }
  std::vector<std::string> unused;
  for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
    if (endpoint->Unused()) {
      endpoint->RecordLastState();  // outside mu_: it takes the endpoint's
      unused.push_back(endpoint->address());
    }
  }
  endpoints.clear();
  if (unused.empty()) {
    return;
  }
  // Under mu_, a count of one means only the table holds the endpoint, and
  // no one can take a new reference (EndpointFor needs mu_): it stays
  // unused. Refs and calls hold references, so those are kept.
  std::vector<std::shared_ptr<Endpoint>> forgotten;
  {
    MutexLock lock(&mu_);
    for (const std::string& address : unused) {
      auto it = endpoints_.find(address);
      if (it != endpoints_.end() && it->second.use_count() == 1) {
        forgotten.push_back(std::move(it->second));
        endpoints_.erase(it);
      }
    }
  }
  forgotten.clear();  // destroyed outside mu_
  // A peer that never linked (a wrong or dead address) keeps no record
  // either: a client naming thousands of them must not fill the table.
  MutexLock lock(&mu_);
  for (const std::string& address : unused) {
    auto it = counters_.find(address);
    if (it != counters_.end() && it->second.use_count() == 1 &&
        !it->second->linked.load(std::memory_order_relaxed)) {
      counters_.erase(it);
    }
  }
}

void Remoting::Leave(absl::Duration timeout) {
  closing_.store(true, std::memory_order_release);
  const std::vector<std::shared_ptr<Endpoint>> endpoints = Endpoints();
  for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
    endpoint->SendLeave();
  }
  {
    MutexLock lock(&mu_);
    for (InboundLink* link : inbound_) {
      link->SendLeave();
    }
  }
  // Bounded: a peer that does not take the bytes is not waited for.
  const absl::Time deadline = absl::Now() + timeout;
  for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
    while (!endpoint->Flushed() && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(1));
    }
  }
}

void Remoting::Shutdown(absl::Duration read_wait) {
  closing_.store(true, std::memory_order_release);
  {
    MutexLock tick(&tick_mu_);
    if (stopped_) {
      return;
    }
    stopped_ = true;
    ticker_.Cancel();
  }
  const std::vector<std::shared_ptr<Endpoint>> endpoints = Endpoints();
  for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
    endpoint->Close();
  }
  // The calls end from the far side once everything written on them has
  // been read: peers told of the leave close their writes after what they
  // wrote (delivered here, to actors or as dead letters), and read what
  // this node wrote. A peer that does not is cut off after `read_wait`.
  bool ended = false;
  {
    MutexLock lock(&mu_);
    ended = mu_.AwaitWithTimeout(
        absl::Condition(this, &Remoting::AllCallsEnded), read_wait);
  }
  if (!ended) {
    std::vector<std::string> open;
    for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
      if (endpoint->HasCalls()) {
        open.push_back(endpoint->address());
      }
    }
    {
      MutexLock lock(&mu_);
      for (const InboundLink* link : inbound_) {
        open.push_back(absl::StrCat("from ", link->peer_address()));
      }
    }
    if (!open.empty()) {  // or they ended just now
      Log(LogSeverity::kWarning, "remote",
          absl::StrCat("calls with ", absl::StrJoin(open, ", "),
                       " had not ended ", absl::FormatDuration(read_wait),
                       " after this node left; they are cut, and what they "
                       "still carried is lost uncounted (the peers were "
                       "slow to read or to close; a longer --shutdown_grace "
                       "gives them time)"));
    }
    for (const std::shared_ptr<Endpoint>& endpoint : endpoints) {
      endpoint->Abort();
    }
  }
  MutexLock lock(&mu_);
  for (InboundLink* link : inbound_) {
    link->Close(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                             "the node is shutting down"));
  }
  if (!mu_.AwaitWithTimeout(
          absl::Condition(
              +[](int* calls) { return *calls == 0; }, &calls_alive_),
          absl::Seconds(5))) {
    Log(LogSeverity::kWarning, "remote",
        absl::StrCat(calls_alive_,
                     " outbound calls had not ended 5s after they were "
                     "cancelled; they are left to gRPC"));
  }
}

RemotingStats Remoting::stats() const {
  RemotingStats stats;
  absl::flat_hash_map<std::string, EndpointStats> live;
  for (const std::shared_ptr<Endpoint>& endpoint : Endpoints()) {
    EndpointStats peer = endpoint->stats();
    live.emplace(peer.address, std::move(peer));
  }
  const absl::Time now = Now();
  MutexLock lock(&mu_);
  for (const auto& [address, counters] : counters_) {
    EndpointStats& peer = stats.peers.emplace_back();
    if (auto it = live.find(address); it != live.end()) {
      peer = std::move(it->second);
    } else {
      peer.address = address;
      peer.state = counters->last_state.load(std::memory_order_relaxed);
    }
    const auto read = [](const std::atomic<uint64_t>& counter) {
      return counter.load(std::memory_order_relaxed);
    };
    peer.messages_sent = read(counters->messages_sent);
    peer.messages_received = read(counters->messages_received);
    peer.frames_sent = read(counters->frames_sent);
    peer.frames_received = read(counters->frames_received);
    peer.bytes_sent = read(counters->bytes_sent);
    peer.bytes_received = read(counters->bytes_received);
    peer.dead_letters = read(counters->dropped);
    peer.overflows = read(counters->overflows);
    peer.downs = read(counters->downs);
    if (auto it = liveness_.find(address); it != liveness_.end()) {
      if (std::shared_ptr<PeerLiveness> liveness = it->second.lock()) {
        peer.allowance = AllowedSilence(liveness->silence(now), options_);
        peer.round_trip = liveness->round_trip();
      }
    }
  }
  absl::c_sort(stats.peers, [](const EndpointStats& a, const EndpointStats& b) {
    return a.address < b.address;
  });
  stats.inbound_links = inbound_.size();
  stats.malformed = malformed_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace troupe
