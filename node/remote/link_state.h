// LinkStateMachine: the states of this node's link to one peer, and the
// rules that move it between them (protoactor's endpoint state, Erlang's
// net_kernel connection states):
//   idle --(something to send)--> connecting --(Hello)--> up
//   connecting|up --Fail--> down --(backoff over, something to send)-->
//   connecting; up --Leave--> down; any --Close--> closed (for good);
//   connecting --(Hello of another node, or of this one)--> alias.
// Failing and leaving are two operations: a failed peer's call is cut at
// once; a peer that left is taken at its word, its call closed for writes
// after what was written (so all of it reaches the peer) and kept until the
// peer ends it. After a link that was up, the next attempt is at once (a
// restarted node may be back); after a failed attempt it waits 50 ms,
// doubling, up to LinkOptions::max_backoff. A link being made is judged by
// LinkOptions::connect_timeout, not by the failure detector.
//
// Times are given by the caller (its clock): tested on simulated time with
// in-memory calls (tests/node/remote:link_state_test). Not thread-safe: the
// endpoint guards it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/remote/link_options.h"
#include "node/remote/link_transport.h"
#include "node/runtime/system_messages.h"

namespace troupe {

// kAlias: the handshake showed this spelling of an address reaches a node
// known by another address, or this node: the endpoint forwards (see
// endpoint_alias.cc).
enum class LinkState : uint8_t { kIdle, kConnecting, kUp, kDown, kAlias };
absl::string_view LinkStateName(LinkState state);

class LinkStateMachine {
 public:
  explicit LinkStateMachine(const LinkOptions& options) : options_(options) {}

  LinkState state() const { return state_; }
  bool closed() const { return closed_; }
  uint64_t peer_incarnation() const { return peer_incarnation_; }
  uint64_t downs() const { return downs_; }
  // The current call (null when none).
  const std::shared_ptr<LinkCall>& call() const { return call_; }
  bool IsCurrent(const LinkCall* call) const {
    return call != nullptr && call == call_.get();
  }

  // What the writer's token holder does at `now` (an alias decides for
  // itself, before asking). kDrain: what is queued becomes dead letters
  // with drain_cause() and drain_why() (closed, the peer just went down, or
  // it is down and its backoff is not over). kConnect: dial, then
  // Connecting(). kWrite: write on call(). kBlocked: wait for the
  // handshake's end (or the broken call's OnCallDone).
  enum class Next { kIdle, kConnect, kWrite, kBlocked, kDrain };
  Next Decide(absl::Time now, bool has_items);
  DeadLetterReason drain_cause() const {
    return closed_ ? kLinkClosed : kNodeUnreachable;
  }
  const std::string& drain_why() const { return drain_why_; }

  // A call was dialled at `now` (after kConnect): connecting.
  void Connecting(std::shared_ptr<LinkCall> call, absl::Time now);
  // The current call's Hello came from the node expected: up. The round
  // trip its handshake took.
  absl::Duration Up(uint64_t peer_incarnation, absl::Time now);
  // The current call's Hello named another node (or this one): an alias
  // for good; the call, to cancel.
  std::shared_ptr<LinkCall> BecomeAlias();
  // A write on `call` failed: nothing more is written on it (its
  // OnCallDone follows).
  void WriteFailed(const LinkCall* call);
  // A call ended. True when it was the current one and the link is not
  // closed: the peer is down (the caller Fails it). A closed link's or a
  // leaving peer's call is simply forgotten.
  bool CallEnded(const LinkCall* call);

  // Why the link should be given up at `now` because its handshake is
  // overdue (connecting for longer than connect_timeout), or nullopt.
  std::optional<std::string> HandshakeOverdue(absl::Time now) const;
  // True when a new watch is answered NODE_DOWN at once, not queued: the
  // link is closed, or down within its backoff.
  bool RefusesWatch(absl::Time now) const {
    return closed_ || (state_ == LinkState::kDown && now < retry_at_);
  }
  // A drain kept a peer's TERMINATED or WATCHED for one more attempt: the
  // backoff ends now. False when closed (they are dropped).
  bool RetryNow();

  // What ending the link did.
  struct Ended {
    bool changed = false;  // it was linked, connecting, or watched
    bool was_up = false;
    bool was_connecting = false;
    std::shared_ptr<LinkCall> call;  // the caller cancels it, or closes its
                                     // writes (Leave)
  };
  // The peer failed (silent, its call ended, its handshake overdue): down,
  // with the backoff rule above; `why` is what drained messages say. No
  // change when there is nothing to end (idle or down with no call and,
  // per `watched`, no watches). An alias never goes down.
  Ended Fail(absl::string_view why, bool watched, absl::Time now);
  // The peer said it is leaving: down as Fail, but its call is kept (see
  // the banner) until it ends or Abort.
  Ended Leave(absl::string_view why, bool watched, absl::Time now);
  // Shutdown: closed for good; the current call (kept for Abort), whose
  // writes the caller closes.
  std::shared_ptr<LinkCall> Close();
  // Shutdown, when the peer did not end its calls in time: every call, to
  // cancel.
  std::vector<std::shared_ptr<LinkCall>> TakeCalls();
  // A call that TakeCalls would return (one that has not ended).
  bool HasCalls() const { return call_ != nullptr || leaving_call_ != nullptr; }
  // No call, and not up or connecting.
  bool Unused() const {
    return (state_ == LinkState::kIdle || state_ == LinkState::kDown ||
            state_ == LinkState::kAlias) &&
           !HasCalls();
  }

 private:
  Ended End(absl::string_view why, bool watched, absl::Time now);

  const LinkOptions options_;
  LinkState state_ = LinkState::kIdle;
  std::shared_ptr<LinkCall> call_;
  // The call to a peer that left, while it reads what was written.
  std::shared_ptr<LinkCall> leaving_call_;
  bool call_broken_ = false;  // a write failed on call_
  bool closed_ = false;
  bool drain_pending_ = false;  // the peer just went down
  std::string drain_why_;
  absl::Time retry_at_ = absl::InfinitePast();
  absl::Time connect_started_ = absl::InfinitePast();
  absl::Duration backoff_ = absl::ZeroDuration();
  uint64_t peer_incarnation_ = 0;
  uint64_t downs_ = 0;
};

}  // namespace troupe
