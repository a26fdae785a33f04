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

Endpoint::Endpoint(Remoting* remoting, std::string address,
                   std::unique_ptr<LinkDialer> dialer,
                   std::shared_ptr<PeerLiveness> peer,
                   std::shared_ptr<PeerCounters> counters)
    : remoting_(remoting),
      address_(MakeNodeAddress(address)),
      dialer_(std::move(dialer)),
      peer_(std::move(peer)),
      counters_(std::move(counters)),
      round_trip_(remoting->clock()),
      writer_(this, remoting->options(), address, counters_.get(),
              &round_trip_),
      link_(remoting->options()) {}

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
    if (link_.state() != LinkState::kUp) {
      return;
    }
  }
  Enqueue(std::make_unique<OutItem>(OutItem::Kind::kLeave));
}

bool Endpoint::Flushed() const { return writer_.Flushed(); }

bool Endpoint::Unused() const {
  MutexLock lock(&mu_);
  return link_.Unused() &&
         (link_.state() != LinkState::kAlias || alias_ready_) &&
         watches_.empty() && Flushed();
}

// --- What the writer does next ----------------------------------------------

LinkWriter::Step Endpoint::NextStep(bool has_items) {
  using Step = LinkWriter::Step;
  MutexLock lock(&mu_);
  Step step;
  if (link_.state() == LinkState::kAlias) {
    // BecomeAlias kicks again once the canonical endpoint is known.
    step.kind = alias_ready_ ? Step::Kind::kForward : Step::Kind::kBlocked;
    return step;
  }
  const absl::Time now = remoting_->Now();
  switch (link_.Decide(now, has_items)) {
    case LinkStateMachine::Next::kIdle:
      break;
    case LinkStateMachine::Next::kDrain:
      step.kind = Step::Kind::kDrain;
      step.cause = link_.drain_cause();
      step.why = link_.drain_why();
      break;
    case LinkStateMachine::Next::kConnect: {
      // The Hello is the first write, under the writer's token.
      peer_->Restart(now);
      v1::Frame hello;
      *hello.mutable_hello() = remoting_->hello();
      remoting_->CallStarted();
      link_.Connecting(dialer_->Dial(shared_from_this(), hello), now);
      step.kind = Step::Kind::kStarted;
      break;
    }
    case LinkStateMachine::Next::kBlocked:
      step.kind = Step::Kind::kBlocked;
      break;
    case LinkStateMachine::Next::kWrite:
      step.kind = Step::Kind::kWrite;
      step.call = link_.call();
      break;
  }
  return step;
}

bool Endpoint::RetryNow() {
  MutexLock lock(&mu_);
  return link_.RetryNow();
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
    link_.WriteFailed(call);  // OnCallDone follows and declares it down
  }
  writer_.OnWriteDone(ok);  // this write held the token
}

void Endpoint::OnCallFrame(LinkCall* call, const v1::Frame& frame,
                           size_t bytes) {
  counters_->Add(counters_->frames_received);
  counters_->Add(counters_->bytes_received, bytes);
  bool now_up = false;
  bool aliased = false;
  std::shared_ptr<LinkCall> aliased_call;
  {
    MutexLock lock(&mu_);
    if (!link_.IsCurrent(call)) {
      return;  // a call already given up
    }
    const absl::Time now = remoting_->Now();
    peer_->Heard(now);
    if (frame.has_hello()) {
      round_trip_.Reset();  // a new call: nothing of the last is returned
    }
    if (std::optional<absl::Duration> sample = round_trip_.Read(frame, now)) {
      peer_->NoteRoundTrip(*sample);
    }
    if (frame.has_hello() && link_.state() == LinkState::kConnecting &&
        IsAliasHello(frame.hello())) {
      // An alias from now on (so no Down can take it for a link): the
      // call is taken before it is cancelled, so its end is not read as
      // the peer going down. BecomeAlias, below, finishes.
      aliased_call = link_.BecomeAlias();
      aliased = true;
    } else if (frame.has_hello() && link_.state() == LinkState::kConnecting) {
      peer_->NoteHandshake(link_.Up(frame.hello().incarnation(), now));
      counters_->linked.store(true, std::memory_order_relaxed);
      writer_.SetPeerLimits(frame.hello().max_message_bytes(),
                            frame.hello().max_frame_bytes());
      now_up = true;
    }
  }
  if (aliased) {
    BecomeAlias(frame.hello(), std::move(aliased_call));
    return;
  }
  if (frame.leave()) {
    Left("it left the cluster (shutting down)");
    return;
  }
  if (now_up) {
    remoting_->link_log().Log(LogSeverity::kInfo,
                              absl::StrCat("linked to ", address(), " (",
                                           frame.hello().address(), ")"));
    Kick();
  }
}

void Endpoint::OnCallMalformed(LinkCall* call, size_t bytes) {
  counters_->Add(counters_->frames_received);
  counters_->Add(counters_->bytes_received, bytes);
  {
    MutexLock lock(&mu_);
    if (!link_.IsCurrent(call)) {
      return;  // a call already given up
    }
    // Bytes came: a sign of life, however garbled (as on its calls to us).
    peer_->Heard(remoting_->Now());
  }
  remoting_->ReportMalformedFrame(address(), bytes);
}

void Endpoint::OnCallDone(LinkCall* call, const absl::Status& status) {
  bool current = false;
  {
    MutexLock lock(&mu_);
    current = link_.CallEnded(call);
  }
  if (!current) {
    // already given up
  } else if (absl::IsAborted(status)) {
    // The peer declared this node down and closed the call: it needs no
    // telling, and its calls to this node opened since are its new link,
    // not to be cut (a node thawed after a freeze would otherwise cut the
    // link its peer has just made again).
    FailLink(absl::StrCat("it ended the link: ", status.message()));
  } else {
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
    up = link_.state() == LinkState::kUp && !link_.closed();
    if (judge) {
      why = up ? peer_->Judge(now, remoting_->options())
               : link_.HandshakeOverdue(now);
    }
  }
  if (why.has_value()) {
    Down(*why);
    return;
  }
  if (!up) {
    return;
  }
  round_trip_.RequestProbe();
  if (!writer_.TakeWroteSinceTick()) {
    Enqueue(std::make_unique<OutItem>(OutItem::Kind::kHeartbeat));
  }
}

void Endpoint::Down(absl::string_view why) {
  FailLink(why);
  remoting_->CloseInbound(address(), why);  // so the peer learns of it
}

void Endpoint::FailLink(absl::string_view why) {
  Ending ending = End(&LinkStateMachine::Fail, why);
  if (ending.link.call != nullptr) {
    ending.link.call->Cancel();
  }
  AfterEnd(ending, why);
  Kick();  // queued messages become dead letters
}

void Endpoint::Left(absl::string_view why) {
  Ending ending = End(&LinkStateMachine::Leave, why);
  if (ending.link.call != nullptr) {
    ending.link.call->CloseWrites();  // the link keeps it until it ends
  }
  AfterEnd(ending, why);
  Kick();  // queued messages become dead letters
}

Endpoint::Ending Endpoint::End(EndFn end, absl::string_view why) {
  Ending ending;
  MutexLock lock(&mu_);
  ending.link =
      (link_.*end)(absl::StrCat("node ", address(), " is down: ", why),
                   !watches_.empty(), remoting_->Now());
  if (ending.link.changed) {
    counters_->Add(counters_->downs);
    ending.fired = watches_.TakeAll();
  }
  return ending;
}

void Endpoint::AfterEnd(const Ending& ending, absl::string_view why) {
  const LinkStateMachine::Ended& ended = ending.link;
  const absl::flat_hash_map<WatchKey, Watchers>& fired = ending.fired;
  if (ended.was_up || ended.was_connecting || !fired.empty()) {
    remoting_->link_log().Log(
        LogSeverity::kWarning,
        absl::StrCat(ended.was_connecting ? "could not link to node " : "node ",
                     address(), ended.was_connecting ? ": " : " is down: ", why,
                     fired.empty() ? ""
                                   : absl::StrCat("; ", fired.size(),
                                                  " watched actors reported "
                                                  "NODE_DOWN")),
        {{"peer", address()}});
  }
  NotifyAllDown(fired);
}

void Endpoint::Close() {
  std::shared_ptr<LinkCall> call;
  {
    MutexLock lock(&mu_);
    call = link_.Close();
    watches_.TakeAll();  // the node goes away with its watchers
  }
  if (call != nullptr) {
    call->CloseWrites();
  }
  Kick();
}

void Endpoint::Abort() {
  std::vector<std::shared_ptr<LinkCall>> calls;
  {
    MutexLock lock(&mu_);
    calls = link_.TakeCalls();
  }
  for (const std::shared_ptr<LinkCall>& call : calls) {
    call->Cancel();
  }
}

bool Endpoint::HasCalls() const {
  MutexLock lock(&mu_);
  return link_.HasCalls();
}

EndpointStats Endpoint::stats() const {
  EndpointStats stats;
  stats.address = address();
  {
    MutexLock lock(&mu_);
    stats.state = link_.state();
    stats.peer_incarnation = link_.peer_incarnation();
    stats.watched = watches_.size();
    if (alias_ready_ && alias_of_ != nullptr) {
      stats.alias_of = alias_of_->address();
    }
  }
  return stats;
}

void Endpoint::RecordLastState() {
  MutexLock lock(&mu_);
  counters_->last_state.store(link_.state(), std::memory_order_relaxed);
}

}  // namespace troupe
