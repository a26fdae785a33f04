#include "node/remote/link_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace troupe {

LinkWriter::LinkWriter(Link* link, const LinkOptions& options, std::string peer,
                       PeerCounters* counters, RoundTrip* round_trip)
    : link_(link),
      capacity_(options.queue_capacity),
      peer_(std::move(peer)),
      encoder_(options),
      counters_(counters),
      round_trip_(round_trip) {}

LinkWriter::~LinkWriter() {
  while (MpscNode* node = queue_.Pop()) {
    delete static_cast<OutItem*>(node);
  }
}

void LinkWriter::Send(std::unique_ptr<OutItem> item) {
  if (item->kind == OutItem::Kind::kUser &&
      queued_user_.fetch_add(1, std::memory_order_relaxed) >= capacity_) {
    queued_user_.fetch_sub(1, std::memory_order_relaxed);
    counters_->Add(counters_->overflows);
    DeadLetter(*item, kLinkQueueFull,
               absl::StrCat("more than ", capacity_, " messages queued for ",
                            peer_, " (it is not keeping up)"));
    return;
  }
  queue_.Push(item.release());
  Kick();
}

void LinkWriter::SetPeerLimits(uint64_t max_message_bytes,
                               uint64_t max_frame_bytes) {
  peer_max_message_.store(max_message_bytes, std::memory_order_relaxed);
  peer_max_frame_.store(max_frame_bytes, std::memory_order_relaxed);
}

bool LinkWriter::Flushed() const {
  // MaybeNonEmpty reads the producers' end only: safe from any thread.
  return !writing_.load(std::memory_order_acquire) && !queue_.MaybeNonEmpty();
}

// The token protocol: a producer pushes, then tries to take the token; the
// holder releases it only after finding the queue empty, and then looks
// once more (both sides seq_cst), so a push is never left unwritten.
//
// A link that is blocked (its handshake under way) is retried only when it
// kicks: a kick that finds the token held leaves kick_requested_ set, and
// the holder, having released the token after a blocked step, looks at it
// once more, so a state change (the link came up, went down, became an
// alias) between the holder's decision and its release is never lost.
void LinkWriter::Kick() {
  kick_requested_.store(true, std::memory_order_seq_cst);
  if (!writing_.exchange(true, std::memory_order_seq_cst)) {
    ContinueWriting();
  }
}

void LinkWriter::OnWriteDone(bool ok) {
  EndFrame(ok);
  ContinueWriting();
}

void LinkWriter::EndFrame(bool written) {
  if (!written) {
    for (std::unique_ptr<OutItem>& item : in_flight_) {
      DeadLetter(*item, kLinkClosed,
                 absl::StrCat("the link to ", peer_,
                              " closed before this message was written"));
    }
  }
  in_flight_.clear();
}

void LinkWriter::ContinueWriting() {
  for (;;) {
    kick_requested_.store(false, std::memory_order_seq_cst);
    const Result result = WriteNext();
    if (result == Result::kWriting) {
      return;  // OnWriteDone continues
    }
    writing_.store(false, std::memory_order_seq_cst);
    const bool again = kick_requested_.load(std::memory_order_seq_cst) ||
                       (result != Result::kBlocked && queue_.MaybeNonEmpty());
    if (!again || writing_.exchange(true, std::memory_order_seq_cst)) {
      return;
    }
  }
}

LinkWriter::Result LinkWriter::WriteNext() {
  Step step = link_->NextStep(queue_.MaybeNonEmpty());
  switch (step.kind) {
    case Step::Kind::kStarted:
      return Result::kWriting;
    case Step::Kind::kBlocked:
      return Result::kBlocked;
    case Step::Kind::kIdle:
      return Result::kIdle;
    case Step::Kind::kDrain:
      Drain(step.cause, step.why);
      return Result::kIdle;
    case Step::Kind::kForward: {
      std::vector<std::unique_ptr<OutItem>> items;
      while (MpscNode* node = queue_.Pop()) {
        std::unique_ptr<OutItem> item(static_cast<OutItem*>(node));
        if (item->kind == OutItem::Kind::kUser) {
          queued_user_.fetch_sub(1, std::memory_order_relaxed);
        }
        items.push_back(std::move(item));
      }
      link_->Forward(std::move(items));
      return Result::kIdle;
    }
    case Step::Kind::kWrite:
      break;
  }
  BuildFrame();
  if (encoder_.empty()) {
    EndFrame(true);  // only messages too large, already dead letters
    return Result::kIdle;
  }
  if (round_trip_ != nullptr) {
    round_trip_->Stamp(encoder_.mutable_frame());
  }
  // Once the write is issued it may complete on another thread, which
  // continues with the token (OnWriteDone): nothing the holder uses
  // (in_flight_, encoder_) may be touched after Write returns non-zero.
  const size_t written = step.call->Write(encoder_.frame());
  if (written == 0) {
    // The call ended under us: no completion follows, so the frame ends
    // here, and we look again at once, so what is queued is drained (once
    // the link is down) or meets the same closed call, instead of waiting
    // for a send to come.
    EndFrame(false);
    return Result::kIdle;
  }
  counters_->Add(counters_->frames_sent);
  counters_->Add(counters_->bytes_sent, written);
  wrote_since_tick_.store(true, std::memory_order_relaxed);
  return Result::kWriting;
}

void LinkWriter::BuildFrame() {
  encoder_.Clear();
  encoder_.SetPeerLimits(peer_max_message_.load(std::memory_order_relaxed),
                         peer_max_frame_.load(std::memory_order_relaxed));
  uint64_t users = 0;
  while (!encoder_.full()) {
    MpscNode* node = queue_.Pop();
    if (node == nullptr) {
      break;
    }
    std::unique_ptr<OutItem> item(static_cast<OutItem*>(node));
    switch (item->kind) {
      case OutItem::Kind::kUser: {
        queued_user_.fetch_sub(1, std::memory_order_relaxed);
        absl::Status added = encoder_.AddUser(*item->target, *item->envelope);
        if (!added.ok()) {
          DeadLetter(*item, kTooLarge, added.message());
        } else {
          ++users;
        }
        break;
      }
      case OutItem::Kind::kStop:
        encoder_.AddControl(v1::STOP, *item->target);
        break;
      case OutItem::Kind::kWatch:
        encoder_.AddControl(v1::WATCH, *item->target);
        break;
      case OutItem::Kind::kUnwatch:
        encoder_.AddControl(v1::UNWATCH, *item->target);
        break;
      case OutItem::Kind::kTerminated:
        encoder_.AddTerminated(*item->pid, item->reason);
        break;
      case OutItem::Kind::kWatched:
        encoder_.AddNamed(v1::WATCHED, *item->pid);
        break;
      case OutItem::Kind::kHeartbeat:
        encoder_.SetHeartbeat();
        break;
      case OutItem::Kind::kLeave:
        encoder_.SetLeave();
        break;
    }
    in_flight_.push_back(std::move(item));
  }
  // Counted before the write, so the count is never behind what the peer
  // has answered; a frame whose write then fails is in messages_sent and,
  // as dead letters, in dropped (PeerCounters).
  counters_->Add(counters_->messages_sent, users);
}

void LinkWriter::Drain(DeadLetterReason cause, absl::string_view why) {
  // The peer's watches of our actors (TERMINATED, WATCHED) may belong to a
  // call it has opened again meanwhile: each gets one more attempt, on a
  // link made at once, rather than leaving the peer's watcher waiting.
  std::vector<std::unique_ptr<OutItem>> kept;
  while (MpscNode* node = queue_.Pop()) {
    std::unique_ptr<OutItem> item(static_cast<OutItem*>(node));
    if (item->kind == OutItem::Kind::kUser) {
      queued_user_.fetch_sub(1, std::memory_order_relaxed);
      DeadLetter(*item, cause, why);
    } else if ((item->kind == OutItem::Kind::kTerminated ||
                item->kind == OutItem::Kind::kWatched) &&
               !item->retried) {
      item->retried = true;
      kept.push_back(std::move(item));
    }
    // Other control items die with the link: its watches have all fired.
  }
  if (kept.empty() || !link_->RetryNow()) {
    return;
  }
  for (std::unique_ptr<OutItem>& item : kept) {
    queue_.Push(item.release());  // the token holder goes on with them
  }
}

void LinkWriter::DeadLetter(OutItem& item, DeadLetterReason cause,
                            absl::string_view why) {
  if (item.kind != OutItem::Kind::kUser || item.envelope == nullptr) {
    return;
  }
  counters_->Add(counters_->dropped);
  link_->DeadLetter(std::move(item.target), std::move(item.envelope), cause,
                    why);
}

}  // namespace troupe
