// LinkWriter: the outbound queue of one link and its write token (CAF
// BASP's message_queue, protoactor's endpoint_writer).
//   - Sends from any thread push onto one lock-free queue (FIFO per
//     sender-receiver pair). A send finding no write in flight takes the
//     token and writes at once, on its own thread; sends arriving meanwhile
//     are batched into the next frame when the write completes (no timer,
//     no extra thread).
//   - Bounded: user messages beyond LinkOptions::queue_capacity become dead
//     letters (kLinkQueueFull), counted as overflows.
//   - Frames respect the peer's limits (FrameEncoder::SetPeerLimits): a
//     message too large for the peer becomes a dead letter (kTooLarge).
//   - What the token holder does next is the link's decision (Step): write
//     on its call, wait for a handshake, drain into dead letters, or hand
//     everything on (an alias).
// No gRPC: tested with an in-memory call, under TSan.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "node/remote/frame_codec.h"
#include "node/remote/link_options.h"
#include "node/remote/link_transport.h"
#include "node/remote/peer_counters.h"
#include "node/remote/round_trip.h"
#include "node/runtime/envelope.h"
#include "node/runtime/mpsc_queue.h"
#include "node/runtime/process.h"
#include "node/runtime/system_messages.h"
#include "proto/troupe.pb.h"

namespace troupe {

// One queued send: what the writer turns into an envelope of a frame.
struct OutItem : MpscNode {
  enum class Kind : uint8_t {
    kUser,
    kStop,
    kWatch,
    kUnwatch,
    kTerminated,
    kWatched,
    kHeartbeat,
    kLeave
  };
  explicit OutItem(Kind k) : kind(k) {}
  Kind kind;
  v1::TerminationReason reason = v1::TERMINATION_REASON_UNSPECIFIED;
  std::shared_ptr<Process> target;  // kUser, kStop, kWatch, kUnwatch
  EnvelopePtr envelope;             // kUser
  std::unique_ptr<v1::Pid> pid;     // kTerminated, kWatched
  bool retried = false;  // kTerminated, kWatched: kept once through a down
};

class LinkWriter {
 public:
  // What the token holder does next.
  struct Step {
    enum class Kind {
      kWrite,    // build a frame and write it on `call`
      kStarted,  // the link started a call whose handshake write holds
                 // the token (OnWriteDone continues)
      kDrain,    // queued user messages become dead letters (`cause`,
                 // `why`); a peer's TERMINATED and WATCHED get one more
                 // attempt (Link::RetryNow)
      kForward,  // every queued item goes to Link::Forward, in order
      kBlocked,  // nothing can be written now; the link kicks again
      kIdle,     // nothing to do
    };
    Kind kind = Kind::kIdle;
    std::shared_ptr<LinkCall> call;
    DeadLetterReason cause = kNodeUnreachable;
    std::string why;
  };

  // The writer's owner: the link (an Endpoint).
  class Link {
   public:
    // Decides, under the link's own lock, what to do with the token.
    // `has_items`: something may be queued.
    virtual Step NextStep(bool has_items) = 0;
    // kForward: every queued item, in order (maybe none).
    virtual void Forward(std::vector<std::unique_ptr<OutItem>> items) = 0;
    // A user message that cannot be sent: the link publishes it as a dead
    // letter.
    virtual void DeadLetter(std::shared_ptr<Process> target,
                            EnvelopePtr envelope, DeadLetterReason cause,
                            absl::string_view why) = 0;
    // A drain kept a peer's TERMINATED or WATCHED: may the writer try at
    // once (false when the link is closed: they are dropped)?
    virtual bool RetryNow() = 0;

   protected:
    ~Link() = default;
  };

  // `link` must outlive the writer; `peer` names the peer in dead letters.
  // `counters` (the peer's record) must outlive the writer. `round_trip`,
  // when not null, stamps each frame written (round_trip.h) and must
  // outlive the writer.
  LinkWriter(Link* link, const LinkOptions& options, std::string peer,
             PeerCounters* counters, RoundTrip* round_trip = nullptr);
  // Frees what is still queued or in flight (only possible once the link
  // is gone).
  ~LinkWriter();
  LinkWriter(const LinkWriter&) = delete;
  LinkWriter& operator=(const LinkWriter&) = delete;

  // Queues `item` and writes if no one is. Never blocks. Thread-safe.
  void Send(std::unique_ptr<OutItem> item);
  // Writes what is queued if no one is (after the link's state changed).
  // Thread-safe.
  void Kick();
  // The write in flight finished (its holder's token continues). From
  // the call's OnCallWriteDone. `ok` false: the write failed with its call,
  // and the frame's user messages become dead letters (kLinkClosed). gRPC
  // does not say whether any of its bytes left first, so in a race with
  // the call's end a peer may have read one that is also counted dead.
  // What the transport took (`ok` true) and the peer never read is lost
  // unreported. Across a broken call delivery is at most once (README,
  // "Failure detection": "Down" means).
  void OnWriteDone(bool ok);
  // The peer's limits from its Hello (0 = not said), for later frames.
  // Thread-safe.
  void SetPeerLimits(uint64_t max_message_bytes, uint64_t max_frame_bytes);

  // True when nothing is queued or being written. Thread-safe.
  bool Flushed() const;
  // Whether a frame was written since the last call (for heartbeats: a
  // link that wrote needs none). Thread-safe.
  bool TakeWroteSinceTick() {
    return wrote_since_tick_.exchange(false, std::memory_order_relaxed);
  }

 private:
  enum class Result { kWriting, kIdle, kBlocked };
  // With the token held: writes until a write is in flight or there is
  // nothing (or no way) to write, then releases the token.
  void ContinueWriting();
  Result WriteNext();
  // Encodes queued items into encoder_ (items kept in in_flight_ until
  // the frame's write completes).
  void BuildFrame();
  // The frame in flight ended: its items are freed, or, when it was not
  // written, its user messages become dead letters.
  void EndFrame(bool written);
  void Drain(DeadLetterReason cause, absl::string_view why);
  void DeadLetter(OutItem& item, DeadLetterReason cause, absl::string_view why);

  Link* const link_;
  const size_t capacity_;
  const std::string peer_;
  MpscQueue queue_;
  std::atomic<size_t> queued_user_{0};
  // The write token: held by the one thread building or writing a frame,
  // from Kick until the write's OnWriteDone. Handshake writes hold it too.
  std::atomic<bool> writing_{false};
  // Set by every Kick; see Kick in link_writer.cc.
  std::atomic<bool> kick_requested_{false};
  std::atomic<bool> wrote_since_tick_{false};
  std::atomic<uint64_t> peer_max_message_{0};
  std::atomic<uint64_t> peer_max_frame_{0};
  // Used only by the token holder.
  FrameEncoder encoder_;
  std::vector<std::unique_ptr<OutItem>> in_flight_;

  // Messages and frames written, and dead letters made (refused,
  // oversized or drained), with their overflows.
  PeerCounters* const counters_;
  RoundTrip* const round_trip_;
};

}  // namespace troupe
