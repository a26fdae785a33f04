#include "node/remote/endpoint.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/remote/outbound_call.h"
#include "node/remote/remoting.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/actor_system_internal.h"
#include "node/runtime/logging.h"
#include "node/runtime/system_messages.h"

namespace troupe {

absl::string_view LinkStateName(LinkState state) {
  switch (state) {
    case LinkState::kIdle:
      return "idle";
    case LinkState::kConnecting:
      return "connecting";
    case LinkState::kUp:
      return "up";
    case LinkState::kDown:
      return "down";
    case LinkState::kAlias:
      return "alias";
  }
  return "?";
}

namespace {

// Backoff after a failed connection attempt: 50 ms, doubling, capped.
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);

}  // namespace

Endpoint::Endpoint(Remoting* remoting, std::string address)
    : remoting_(remoting),
      address_(MakeNodeAddress(address)),
      encoder_(remoting->options()) {}

Endpoint::~Endpoint() {
  while (MpscNode* node = queue_.Pop()) {
    delete static_cast<OutItem*>(node);
  }
}

// --- Sending ---------------------------------------------------------------

void Endpoint::Enqueue(std::unique_ptr<OutItem> item) {
  queue_.Push(item.release());
  Kick();
}

void Endpoint::SendUser(std::shared_ptr<Process> target, EnvelopePtr envelope) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kUser);
  item->target = std::move(target);
  item->envelope = std::move(envelope);
  if (queued_user_.fetch_add(1, std::memory_order_relaxed) >=
      remoting_->options().queue_capacity) {
    queued_user_.fetch_sub(1, std::memory_order_relaxed);
    overflows_.fetch_add(1, std::memory_order_relaxed);
    DeadLetter(*item, kLinkQueueFull,
               absl::StrCat("more than ", remoting_->options().queue_capacity,
                            " messages queued for ", address(),
                            " (it is not keeping up)"));
    return;
  }
  Enqueue(std::move(item));
}

void Endpoint::SendStop(std::shared_ptr<Process> target) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kStop);
  item->target = std::move(target);
  Enqueue(std::move(item));
}

void Endpoint::SendLeave() {
  {
    MutexLock lock(&mu_);
    if (state_ != LinkState::kUp) {
      return;
    }
  }
  Enqueue(std::make_unique<OutItem>(OutItem::Kind::kLeave));
}

bool Endpoint::Flushed() const {
  return !writing_.load(std::memory_order_acquire) && queue_.Empty();
}

bool Endpoint::Unused() const {
  MutexLock lock(&mu_);
  return (state_ == LinkState::kIdle || state_ == LinkState::kDown ||
          alias_ready_) &&
         call_ == nullptr && leaving_call_ == nullptr && watches_.empty() &&
         Flushed();
}

// --- The writer --------------------------------------------------------------

// The token protocol: a producer pushes, then tries to take the token; the
// holder releases it only after finding the queue empty, and then looks
// once more (both sides seq_cst), so a push is never left unwritten.
void Endpoint::Kick() {
  if (!writing_.exchange(true, std::memory_order_seq_cst)) {
    ContinueWriting();
  }
}

void Endpoint::ContinueWriting() {
  for (;;) {
    const WriteResult result = WriteNext();
    if (result == WriteResult::kWriting) {
      return;  // OnCallWriteDone continues
    }
    writing_.store(false, std::memory_order_seq_cst);
    if (result == WriteResult::kBlocked || !queue_.MaybeNonEmpty() ||
        writing_.exchange(true, std::memory_order_seq_cst)) {
      return;
    }
  }
}

Endpoint::WriteResult Endpoint::WriteNext() {
  std::shared_ptr<OutboundCall> call;
  std::string drain_reason;
  DeadLetterReason drain_cause = kNodeUnreachable;
  bool forward = false;
  {
    MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (state_ == LinkState::kAlias) {
      if (!alias_ready_) {
        return WriteResult::kBlocked;  // BecomeAlias kicks again
      }
      forward = true;
    } else if (closed_ || drain_pending_ ||
               (state_ == LinkState::kDown && now < retry_at_)) {
      drain_pending_ = false;
      drain_reason = closed_ ? "this node is shutting down" : down_reason_;
      drain_cause = closed_ ? kLinkClosed : kNodeUnreachable;
    } else if (state_ == LinkState::kIdle || state_ == LinkState::kDown) {
      if (!queue_.MaybeNonEmpty()) {
        return WriteResult::kIdle;
      }
      // Connect: the Hello is the first write, under this token.
      state_ = LinkState::kConnecting;
      call_broken_ = false;
      liveness_ = Liveness(now);
      connect_started_ = now;  // judged by connect_timeout until up
      v1::Frame hello;
      *hello.mutable_hello() = remoting_->hello();
      remoting_->CallStarted();
      if (channel_ == nullptr) {
        channel_ = OutboundCall::NewChannel(address(), remoting_->options(),
                                            remoting_->auth());
      }
      call_ = OutboundCall::Start(shared_from_this(), channel_, hello,
                                  remoting_->auth());
      return WriteResult::kWriting;
    } else if (state_ == LinkState::kConnecting || call_broken_) {
      return WriteResult::kBlocked;  // the handshake's end kicks again
    } else {
      call = call_;
    }
  }
  if (forward) {
    ForwardQueue();
    return WriteResult::kIdle;
  }
  if (call == nullptr) {
    DrainQueue(drain_cause, drain_reason);
    return WriteResult::kIdle;
  }
  BuildFrame();
  if (encoder_.empty()) {
    return WriteResult::kIdle;
  }
  // Once StartWrite is issued the write may complete on another thread,
  // which continues with the token: nothing shared (in_flight_, encoder_)
  // may be touched after Write returns.
  std::vector<OutItem*> taken;
  taken.swap(in_flight_);
  const bool written = call->Write(encoder_.frame());
  for (OutItem* item : taken) {
    if (!written) {
      // The call ended under us: what was taken becomes dead letters.
      DeadLetter(*item, kLinkClosed,
                 absl::StrCat("the link to ", address(), " closed"));
    }
    delete item;
  }
  if (!written) {
    // The call takes no more writes (it ended, or the peer left): look
    // again at once, so what is queued is drained (once Down has run) or
    // meets the same closed call, instead of waiting for a send to come.
    return WriteResult::kIdle;
  }
  frames_sent_.fetch_add(1, std::memory_order_relaxed);
  wrote_since_tick_.store(true, std::memory_order_relaxed);
  return WriteResult::kWriting;
}

void Endpoint::BuildFrame() {
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
    in_flight_.push_back(item.release());
  }
  messages_sent_.fetch_add(users, std::memory_order_relaxed);
}

void Endpoint::DrainQueue(DeadLetterReason cause, absl::string_view why) {
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
  if (kept.empty()) {
    return;
  }
  {
    MutexLock lock(&mu_);
    if (closed_) {
      return;
    }
    retry_at_ = absl::InfinitePast();
  }
  for (std::unique_ptr<OutItem>& item : kept) {
    queue_.Push(item.release());  // the token holder goes on with them
  }
}

void Endpoint::DeadLetter(OutItem& item, DeadLetterReason cause,
                          absl::string_view why) {
  if (item.kind != OutItem::Kind::kUser || item.envelope == nullptr) {
    return;
  }
  dead_letters_.fetch_add(1, std::memory_order_relaxed);
  runtime_internal::SystemInternals::DeadLetter(
      remoting_->system(), ActorRef(std::move(item.target)),
      std::move(item.envelope), cause, why);
}

// --- The call's events -------------------------------------------------------

void Endpoint::OnCallWriteDone(OutboundCall* call, bool ok) {
  if (!ok) {
    MutexLock lock(&mu_);
    if (call == call_.get()) {
      call_broken_ = true;  // OnCallDone follows and declares the peer down
    }
  }
  ContinueWriting();  // this write held the token
}

void Endpoint::OnCallFrame(OutboundCall* call, const v1::Frame& frame) {
  bool now_up = false;
  bool aliased = false;
  {
    MutexLock lock(&mu_);
    if (call != call_.get()) {
      return;  // a call already given up
    }
    liveness_.Heard(absl::Now());
    if (frame.has_hello() && state_ == LinkState::kConnecting &&
        IsAliasHello(frame.hello())) {
      state_ = LinkState::kAlias;  // BecomeAlias, below, finishes it
      aliased = true;
    } else if (frame.has_hello() && state_ == LinkState::kConnecting) {
      state_ = LinkState::kUp;
      peer_incarnation_ = frame.hello().incarnation();
      round_trip_ = absl::Now() - connect_started_;
      peer_max_message_.store(frame.hello().max_message_bytes(),
                              std::memory_order_relaxed);
      peer_max_frame_.store(frame.hello().max_frame_bytes(),
                            std::memory_order_relaxed);
      backoff_ = absl::ZeroDuration();
      now_up = true;
    }
  }
  if (aliased) {
    BecomeAlias(frame.hello());
    return;
  }
  if (frame.leave()) {
    Down("it left the cluster (shutting down)", /*left=*/true);
    return;
  }
  if (now_up) {
    remoting_->link_log().Log(LogSeverity::kInfo,
                              absl::StrCat("linked to ", address(), " (",
                                           frame.hello().address(), ")"));
    Kick();
  }
}

void Endpoint::OnCallDone(OutboundCall* call, const grpc::Status& status) {
  bool current = false;
  {
    MutexLock lock(&mu_);
    current = call == call_.get();  // else: already declared down for it
    if (call == leaving_call_.get()) {
      leaving_call_.reset();
    }
    if (current && closed_) {
      call_.reset();  // shutting down: it ended as Close asked
      current = false;
    }
  }
  if (current) {
    Down(status.ok()
             ? std::string("the peer ended the link")
             : absl::StrCat("the link failed: ", status.error_message(),
                            " (gRPC code ",
                            static_cast<int>(status.error_code()), ")"));
  }
  remoting_->CallEnded();
}

// --- Failure detection -------------------------------------------------------

Silence Endpoint::silence(absl::Time now) const {
  MutexLock lock(&mu_);
  Silence silence = liveness_.silence(now);
  silence.round_trip = round_trip_;
  return silence;
}

void Endpoint::Tick(absl::Time now, bool judge, const Silence& others) {
  std::optional<std::string> why;
  bool up = false;
  {
    MutexLock lock(&mu_);
    if (closed_ ||
        (state_ != LinkState::kUp && state_ != LinkState::kConnecting)) {
      return;
    }
    up = state_ == LinkState::kUp;
    if (!up) {
      // A handshake has its own timeout: on a long path it takes several
      // round trips, which the failure threshold of a link that is up
      // does not allow for; and the peer's other calls say nothing about
      // whether this one will come up.
      const absl::Duration timeout = remoting_->options().connect_timeout;
      if (judge && now - connect_started_ > timeout) {
        why =
            absl::StrCat("no handshake within ", absl::FormatDuration(timeout),
                         " of dialling it (--connect_timeout; the path is "
                         "slow, or the node is frozen or not a troupe "
                         "node)");
      }
    } else if (judge) {
      Silence silence = liveness_.silence(now);
      silence.round_trip = round_trip_;
      silence.Merge(others);
      why = JudgeSilence(silence, now, remoting_->options());
    }
  }
  if (why.has_value()) {
    Down(*why);
    return;
  }
  if (up && !wrote_since_tick_.exchange(false, std::memory_order_relaxed)) {
    Enqueue(std::make_unique<OutItem>(OutItem::Kind::kHeartbeat));
  }
}

void Endpoint::Down(absl::string_view why, bool left) {
  std::shared_ptr<OutboundCall> call;
  absl::flat_hash_map<WatchKey, Watchers> fired;
  bool was_linked = false;
  bool was_connecting = false;
  {
    MutexLock lock(&mu_);
    if (state_ == LinkState::kAlias) {
      return;  // not a link: the canonical endpoint's downs are its own
    }
    const bool nothing_to_end =
        (state_ == LinkState::kIdle || state_ == LinkState::kDown) &&
        call_ == nullptr && watches_.empty();
    if (!nothing_to_end) {
      call = std::move(call_);
      was_linked = state_ == LinkState::kUp;
      was_connecting = state_ == LinkState::kConnecting;
      // A link that was up may come straight back (a restarted node); one
      // that never came up waits longer each time.
      backoff_ = was_linked ? absl::ZeroDuration()
                            : std::min(remoting_->options().max_backoff,
                                       std::max(kFirstBackoff, backoff_ * 2));
      retry_at_ = absl::Now() + backoff_;
      state_ = LinkState::kDown;
      drain_pending_ = true;
      down_reason_ = absl::StrCat("node ", address(), " is down: ", why);
      fired = watches_.TakeAll();
      ++downs_;
    }
  }
  if (call != nullptr) {
    if (left) {
      call->CloseWrites();
      MutexLock lock(&mu_);
      leaving_call_ = call;  // for Abort, until the peer ends it
    } else {
      call->Cancel();
    }
  }
  if (was_linked || was_connecting || !fired.empty()) {
    remoting_->link_log().Log(
        LogSeverity::kWarning,
        absl::StrCat(was_connecting ? "could not link to node " : "node ",
                     address(), was_connecting ? ": " : " is down: ", why,
                     fired.empty() ? ""
                                   : absl::StrCat("; ", fired.size(),
                                                  " watched actors reported "
                                                  "NODE_DOWN")));
  }
  NotifyAllDown(fired);
  if (!left) {
    remoting_->CloseInbound(address(), why);
  }
  Kick();  // queued messages become dead letters
}

void Endpoint::Close() {
  std::shared_ptr<OutboundCall> call;
  absl::flat_hash_map<WatchKey, Watchers> dropped;
  {
    MutexLock lock(&mu_);
    closed_ = true;
    call = call_;  // kept, for Abort
    state_ = LinkState::kDown;
    dropped = watches_.TakeAll();  // the node goes away with its watchers
  }
  if (call != nullptr) {
    call->CloseWrites();
  }
  Kick();
}

void Endpoint::Abort() {
  std::shared_ptr<OutboundCall> calls[2];
  {
    MutexLock lock(&mu_);
    calls[0] = std::move(call_);
    calls[1] = std::move(leaving_call_);
  }
  for (const std::shared_ptr<OutboundCall>& call : calls) {
    if (call != nullptr) {
      call->Cancel();
    }
  }
}

EndpointStats Endpoint::stats() const {
  EndpointStats stats;
  stats.address = address();
  {
    MutexLock lock(&mu_);
    stats.state = state_;
    stats.peer_incarnation = peer_incarnation_;
    stats.downs = downs_;
    stats.watched = watches_.size();
    if (alias_ready_ && alias_of_ != nullptr) {
      stats.alias_of = alias_of_->address();
    }
  }
  stats.messages_sent = messages_sent_.load(std::memory_order_relaxed);
  stats.frames_sent = frames_sent_.load(std::memory_order_relaxed);
  stats.dead_letters = dead_letters_.load(std::memory_order_relaxed);
  stats.overflows = overflows_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace troupe
