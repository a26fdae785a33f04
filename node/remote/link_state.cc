#include "node/remote/link_state.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace troupe {
namespace {

// Backoff after a failed connection attempt: 50 ms, doubling, capped.
constexpr absl::Duration kFirstBackoff = absl::Milliseconds(50);

}  // namespace

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

LinkStateMachine::Next LinkStateMachine::Decide(absl::Time now,
                                                bool has_items) {
  if (closed_) {
    drain_why_ = "this node is shutting down";
    return Next::kDrain;
  }
  if (drain_pending_ || (state_ == LinkState::kDown && now < retry_at_)) {
    drain_pending_ = false;
    return Next::kDrain;
  }
  switch (state_) {
    case LinkState::kIdle:
    case LinkState::kDown:
      return has_items ? Next::kConnect : Next::kIdle;
    case LinkState::kConnecting:
      return Next::kBlocked;  // the handshake's end kicks again
    case LinkState::kUp:
      return call_broken_ ? Next::kBlocked : Next::kWrite;
    case LinkState::kAlias:
      break;
  }
  return Next::kBlocked;  // an alias decides for itself
}

void LinkStateMachine::Connecting(std::shared_ptr<LinkCall> call,
                                  absl::Time now) {
  state_ = LinkState::kConnecting;
  call_ = std::move(call);
  call_broken_ = false;
  connect_started_ = now;
}

absl::Duration LinkStateMachine::Up(uint64_t peer_incarnation, absl::Time now) {
  state_ = LinkState::kUp;
  peer_incarnation_ = peer_incarnation;
  backoff_ = absl::ZeroDuration();
  return now - connect_started_;
}

std::shared_ptr<LinkCall> LinkStateMachine::BecomeAlias() {
  state_ = LinkState::kAlias;
  return std::move(call_);
}

void LinkStateMachine::WriteFailed(const LinkCall* call) {
  if (IsCurrent(call)) {
    call_broken_ = true;
  }
}

bool LinkStateMachine::CallEnded(const LinkCall* call) {
  if (call != nullptr && call == leaving_call_.get()) {
    leaving_call_.reset();
  }
  if (!IsCurrent(call)) {
    return false;  // already given up
  }
  if (closed_) {
    call_.reset();  // shutting down: it ended as Close asked
    return false;
  }
  return true;
}

std::optional<std::string> LinkStateMachine::HandshakeOverdue(
    absl::Time now) const {
  if (closed_ || state_ != LinkState::kConnecting ||
      now - connect_started_ <= options_.connect_timeout) {
    return std::nullopt;
  }
  // A handshake has its own timeout: on a long path it takes several round
  // trips, which the failure threshold of a link that is up does not allow
  // for; and the peer's other calls say nothing about whether this one
  // will come up.
  return absl::StrCat(
      "no handshake within ", absl::FormatDuration(options_.connect_timeout),
      " of dialling it (--connect_timeout; the path is slow, or the node is "
      "frozen or not a troupe node)");
}

bool LinkStateMachine::RetryNow() {
  if (closed_) {
    return false;
  }
  retry_at_ = absl::InfinitePast();
  return true;
}

LinkStateMachine::Ended LinkStateMachine::End(absl::string_view why,
                                              bool watched, absl::Time now) {
  Ended ended;
  if (state_ == LinkState::kAlias) {
    return ended;  // not a link: the canonical endpoint's downs are its own
  }
  if ((state_ == LinkState::kIdle || state_ == LinkState::kDown) &&
      call_ == nullptr && !watched) {
    return ended;  // nothing to end
  }
  ended.changed = true;
  ended.call = std::move(call_);
  ended.was_up = state_ == LinkState::kUp;
  ended.was_connecting = state_ == LinkState::kConnecting;
  // A link that was up may come straight back (a restarted node); one that
  // never came up waits longer each time.
  backoff_ = ended.was_up ? absl::ZeroDuration()
                          : std::min(options_.max_backoff,
                                     std::max(kFirstBackoff, backoff_ * 2));
  retry_at_ = now + backoff_;
  state_ = LinkState::kDown;
  drain_pending_ = true;
  drain_why_ = std::string(why);
  ++downs_;
  return ended;
}

LinkStateMachine::Ended LinkStateMachine::Fail(absl::string_view why,
                                               bool watched, absl::Time now) {
  return End(why, watched, now);
}

LinkStateMachine::Ended LinkStateMachine::Leave(absl::string_view why,
                                                bool watched, absl::Time now) {
  Ended ended = End(why, watched, now);
  if (ended.call != nullptr) {
    leaving_call_ = ended.call;  // for TakeCalls, until the peer ends it
  }
  return ended;
}

std::shared_ptr<LinkCall> LinkStateMachine::Close() {
  closed_ = true;
  state_ = LinkState::kDown;
  return call_;  // kept, for TakeCalls
}

std::vector<std::shared_ptr<LinkCall>> LinkStateMachine::TakeCalls() {
  std::vector<std::shared_ptr<LinkCall>> calls;
  if (call_ != nullptr) {
    calls.push_back(std::move(call_));
  }
  if (leaving_call_ != nullptr) {
    calls.push_back(std::move(leaving_call_));
  }
  return calls;
}

}  // namespace troupe
