#include "node/remote/endpoint.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

Endpoint::Endpoint(Remoting* remoting, std::string address,
                   std::unique_ptr<LinkDialer> dialer,
                   std::shared_ptr<PeerLiveness> peer)
    : remoting_(remoting),
      address_(MakeNodeAddress(address)),
      dialer_(std::move(dialer)),
      peer_(std::move(peer)),
      writer_(this, remoting->options(), address) {}

Endpoint::~Endpoint() = default;

// --- Sending ---------------------------------------------------------------

void Endpoint::SendUser(std::shared_ptr<Process> target, EnvelopePtr envelope) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kUser);
  item->target = std::move(target);
  item->envelope = std::move(envelope);
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

bool Endpoint::Flushed() const { return writer_.Flushed(); }

bool Endpoint::Unused() const {
  MutexLock lock(&mu_);
  return (state_ == LinkState::kIdle || state_ == LinkState::kDown ||
          alias_ready_) &&
         call_ == nullptr && leaving_call_ == nullptr && watches_.empty() &&
         Flushed();
}

// --- What the writer does next ----------------------------------------------

LinkWriter::Step Endpoint::NextStep(bool has_items) {
  using Step = LinkWriter::Step;
  MutexLock lock(&mu_);
  const absl::Time now = remoting_->Now();
  Step step;
  if (state_ == LinkState::kAlias) {
    // BecomeAlias kicks again once the canonical endpoint is known.
    step.kind = alias_ready_ ? Step::Kind::kForward : Step::Kind::kBlocked;
  } else if (closed_ || drain_pending_ ||
             (state_ == LinkState::kDown && now < retry_at_)) {
    drain_pending_ = false;
    step.kind = Step::Kind::kDrain;
    step.cause = closed_ ? kLinkClosed : kNodeUnreachable;
    step.why = closed_ ? "this node is shutting down" : down_reason_;
  } else if (state_ == LinkState::kIdle || state_ == LinkState::kDown) {
    if (!has_items) {
      return step;  // kIdle
    }
    // Connect: the Hello is the first write, under the writer's token.
    state_ = LinkState::kConnecting;
    call_broken_ = false;
    peer_->Restart(now);
    connect_started_ = now;  // judged by connect_timeout until up
    v1::Frame hello;
    *hello.mutable_hello() = remoting_->hello();
    remoting_->CallStarted();
    call_ = dialer_->Dial(shared_from_this(), hello);
    step.kind = Step::Kind::kStarted;
  } else if (state_ == LinkState::kConnecting || call_broken_) {
    step.kind = Step::Kind::kBlocked;  // the handshake's end kicks again
  } else {
    step.kind = Step::Kind::kWrite;
    step.call = call_;
  }
  return step;
}

bool Endpoint::RetryNow() {
  MutexLock lock(&mu_);
  if (closed_) {
    return false;
  }
  retry_at_ = absl::InfinitePast();
  return true;
}

void Endpoint::DeadLetter(std::shared_ptr<Process> target, EnvelopePtr envelope,
                          DeadLetterReason cause, absl::string_view why) {
  runtime_internal::SystemInternals::DeadLetter(
      remoting_->system(), ActorRef(std::move(target)), std::move(envelope),
      cause, why);
}

// --- The call's events -------------------------------------------------------

void Endpoint::OnCallWriteDone(LinkCall* call, bool ok) {
  if (!ok) {
    MutexLock lock(&mu_);
    if (call == call_.get()) {
      call_broken_ = true;  // OnCallDone follows and declares the peer down
    }
  }
  writer_.OnWriteDone();  // this write held the token
}

void Endpoint::OnCallFrame(LinkCall* call, const v1::Frame& frame) {
  bool now_up = false;
  bool aliased = false;
  {
    MutexLock lock(&mu_);
    if (call != call_.get()) {
      return;  // a call already given up
    }
    const absl::Time now = remoting_->Now();
    peer_->Heard(now);
    if (frame.has_hello() && state_ == LinkState::kConnecting &&
        IsAliasHello(frame.hello())) {
      state_ = LinkState::kAlias;  // BecomeAlias, below, finishes it
      aliased = true;
    } else if (frame.has_hello() && state_ == LinkState::kConnecting) {
      state_ = LinkState::kUp;
      peer_incarnation_ = frame.hello().incarnation();
      peer_->NoteRoundTrip(now - connect_started_);
      writer_.SetPeerLimits(frame.hello().max_message_bytes(),
                            frame.hello().max_frame_bytes());
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

void Endpoint::OnCallDone(LinkCall* call, const absl::Status& status) {
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
             : absl::StrCat("the link failed: ", status.message(), " (",
                            absl::StatusCodeToString(status.code()), ")"));
  }
  remoting_->CallEnded();
}

// --- Failure detection -------------------------------------------------------

void Endpoint::Tick(absl::Time now, bool judge) {
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
      why = peer_->Judge(now, remoting_->options());
    }
  }
  if (why.has_value()) {
    Down(*why);
    return;
  }
  if (up && !writer_.TakeWroteSinceTick()) {
    Enqueue(std::make_unique<OutItem>(OutItem::Kind::kHeartbeat));
  }
}

void Endpoint::Down(absl::string_view why, bool left) {
  std::shared_ptr<LinkCall> call;
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
      retry_at_ = remoting_->Now() + backoff_;
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
  std::shared_ptr<LinkCall> call;
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
  std::shared_ptr<LinkCall> calls[2];
  {
    MutexLock lock(&mu_);
    calls[0] = std::move(call_);
    calls[1] = std::move(leaving_call_);
  }
  for (const std::shared_ptr<LinkCall>& call : calls) {
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
  const LinkWriter::Counters counters = writer_.counters();
  stats.messages_sent = counters.messages_sent;
  stats.frames_sent = counters.frames_sent;
  stats.dead_letters = counters.dead_letters;
  stats.overflows = counters.overflows;
  return stats;
}

}  // namespace troupe
