#include "node/remote/frame_delivery.h"

#include <optional>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/any.pb.h"
#include "node/remote/endpoint.h"
#include "node/remote/frame_codec.h"
#include "node/remote/remote_watches.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/envelope.h"
#include "node/runtime/system_messages.h"

namespace troupe {

namespace {

// Stands for the peer in a local actor's watcher set: when the actor ends,
// it sends TERMINATED back to the peer, naming the actor as the peer's
// WATCH did.
class RemoteWatcher final : public Process {
 public:
  RemoteWatcher(std::shared_ptr<Endpoint> peer, std::string id,
                uint64_t peer_incarnation, v1::Pid named,
                std::weak_ptr<InboundWatches> table, WatchKey key)
      : Process(peer->shared_address(), std::move(id), peer_incarnation),
        peer_(std::move(peer)),
        named_(std::move(named)),
        table_(std::move(table)),
        key_(std::move(key)) {}

  void SendUser(EnvelopePtr /*envelope*/) override {}  // never a sender
  void SendSystem(SystemMessagePtr message) override {
    if (message->kind != SystemKind::kTerminated) {
      return;
    }
    if (std::shared_ptr<InboundWatches> table = table_.lock()) {
      table->RemoveIfWatcher(key_, this);
    }
    peer_->SendTerminated(named_, message->reason);
  }
  bool IsTerminated() const override { return false; }

 private:
  const std::shared_ptr<Endpoint> peer_;
  const v1::Pid named_;
  const std::weak_ptr<InboundWatches> table_;
  const WatchKey key_;
};

}  // namespace

FrameDelivery::FrameDelivery(Remoting* remoting, std::string peer_address,
                             uint64_t peer_incarnation)
    : remoting_(remoting),
      peer_address_(std::move(peer_address)),
      peer_incarnation_(peer_incarnation),
      watches_(std::make_shared<InboundWatches>()) {}

FrameDelivery::~FrameDelivery() {
  // The peer's watches end with its link.
  for (InboundWatches::Entry& entry : watches_->Close()) {
    entry.target.process()->SendSystem(
        MakeSystem(SystemKind::kUnwatch, entry.watcher));
  }
}

void FrameDelivery::Deliver(const v1::Frame& frame, PeerCounters& counters) {
  ActorSystem& system = remoting_->system();
  FrameDecoder decoder(frame);
  // Each ref is resolved once per frame, when first used.
  std::vector<ActorRef> locals(frame.refs_size());
  std::vector<ActorRef> senders(frame.refs_size());
  auto local = [&](uint32_t index) -> const ActorRef& {
    ActorRef& ref = locals[index - 1];
    if (!ref) {
      const v1::Pid& pid = frame.refs(index - 1);
      ref = system.ResolveLocal(pid.id(), pid.incarnation(), pid.uid());
    }
    return ref;
  };

  for (int i = 0; i < decoder.size(); ++i) {
    absl::StatusOr<FrameDecoder::Decoded> decoded = decoder.Decode(i);
    if (!decoded.ok()) {
      remoting_->ReportMalformed(
          peer_address_,
          absl::StrCat("skipped an envelope: ", decoded.status().message()));
      continue;
    }
    const uint32_t index = decoded->target_index;
    switch (decoded->control) {
      case v1::USER: {
        counters.Add(counters.messages_received);
        ActorRef sender;
        if (const uint32_t s = decoded->sender_index; s != 0) {
          if (!senders[s - 1]) {
            senders[s - 1] = system.Resolve(FromProto(*decoded->sender));
          }
          sender = senders[s - 1];
        }
        const ActorRef& target = local(index);
        EnvelopePtr envelope =
            MakeEnvelope(std::move(decoded->message), std::move(sender));
        envelope->method = decoded->method;
        envelope->answer = decoded->answer;
        if (!decoded->problem.empty()) {
          runtime_internal::SystemInternals::DeadLetter(
              system, target, std::move(envelope), kUnknownType,
              decoded->problem);
          continue;
        }
        target.process()->SendUser(std::move(envelope));
        break;
      }
      case v1::STOP:
        local(index).process()->SendSystem(
            MakeSystem(SystemKind::kStop, ActorRef()));
        break;
      case v1::WATCH: {
        const v1::Pid& named = frame.refs(index - 1);
        WatchKey key = WatchKeyOf(named);
        std::shared_ptr<Endpoint> peer = remoting_->EndpointFor(peer_address_);
        if (!watches_->Contains(key)) {
          ActorRef watcher(std::make_shared<RemoteWatcher>(
              peer, remoting_->NewWatcherId(), peer_incarnation_, named,
              watches_, key));
          const ActorRef& target = local(index);
          if (watches_->Insert(std::move(key), {target, watcher})) {
            target.process()->SendSystem(
                MakeSystem(SystemKind::kWatch, watcher));
          }
        }
        // Acknowledged once placed (queued ahead of anything sent to the
        // actor later), so whatever stops it after the peer hears WATCHED
        // is reported as it happened. An actor already gone has answered
        // with TERMINATED first; the WATCHED is then moot.
        peer->SendWatched(named);
        break;
      }
      case v1::UNWATCH: {
        const v1::Pid& named = frame.refs(index - 1);
        if (std::optional<InboundWatches::Entry> entry =
                watches_->Remove(WatchKeyOf(named))) {
          entry->target.process()->SendSystem(
              MakeSystem(SystemKind::kUnwatch, entry->watcher));
        }
        break;
      }
      case v1::TERMINATED:
        remoting_->EndpointFor(peer_address_)
            ->OnTerminated(frame.refs(index - 1), decoded->reason);
        break;
      case v1::WATCHED:
        remoting_->EndpointFor(peer_address_)->OnWatched(frame.refs(index - 1));
        break;
      default:
        remoting_->ReportMalformed(
            peer_address_,
            absl::StrCat("skipped an envelope of unknown control ",
                         static_cast<int>(decoded->control)));
        break;
    }
  }
}

}  // namespace troupe
