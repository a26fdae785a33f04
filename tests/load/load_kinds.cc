#include "tests/load/load_kinds.h"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/time/clock.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"

namespace troupe::load {
namespace {

// Messages a source sends per turn before it lets other actors run.
constexpr uint64_t kChunk = 1000;

class Sink final : public Actor {
 public:
  explicit Sink(absl::Duration delay) : delay_(delay) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* msg = As<LoadMsg>(message)) {
      Stream& stream = streams_[msg->stream()];
      ++stream.received;
      if (msg->seq() != stream.next) {
        ++stream.out_of_order;
      }
      stream.next = msg->seq() + 1;
      if (delay_ > absl::ZeroDuration()) {
        absl::SleepFor(delay_);
      }
    } else if (const auto* mark = As<LoadMark>(message)) {
      ctx.Reply(LoadMark(*mark));
    } else if (Is<ReportRequest>(message)) {
      SinkReport report;
      for (const auto& [name, stream] : streams_) {
        StreamCount* count = report.add_streams();
        count->set_stream(name);
        count->set_received(stream.received);
        count->set_out_of_order(stream.out_of_order);
      }
      ctx.Reply(std::move(report));
    }
    return absl::OkStatus();  // LoadHold and anything else: no answer
  }

  void Stopped(ActorContext& ctx) override {
    for (const auto& [name, stream] : streams_) {
      std::printf("load sink %s stopped: %s received=%llu out_of_order=%llu\n",
                  ctx.Self().id().c_str(), name.c_str(),
                  static_cast<unsigned long long>(stream.received),
                  static_cast<unsigned long long>(stream.out_of_order));
    }
    std::fflush(stdout);
  }

 private:
  struct Stream {
    uint64_t next = 0;
    uint64_t received = 0;
    uint64_t out_of_order = 0;
  };

  const absl::Duration delay_;
  absl::flat_hash_map<std::string, Stream> streams_;
};

class Source final : public Actor {
 public:
  explicit Source(SourcePlan plan) : plan_(std::move(plan)) {}

  absl::Status Started(ActorContext& ctx) override {
    target_ = ctx.System().Resolve(FromProto(plan_.target()));
    ctx.Watch(target_);
    Pump(ctx);
    return absl::OkStatus();
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (Is<Continue>(message)) {
      continue_pending_ = false;
      Pump(ctx);
    } else if (const auto* mark = As<LoadMark>(message)) {
      confirmed_ = std::max(confirmed_, mark->seq());
      Pump(ctx);
    } else if (const auto* dead = As<DeadLetter>(message)) {
      if (dead->message().Is<LoadMsg>()) {
        ++dead_letters_;
      } else if (dead->message().Is<LoadMark>()) {
        broken_ = true;  // no confirmation will come: stop sending (the
                         // target's Terminated, if it ended, follows)
      }
    } else if (const auto* terminated = As<Terminated>(message)) {
      ended_ = terminated->reason();
    } else if (Is<ReportRequest>(message)) {
      SourceReport report;
      report.set_stream(plan_.stream());
      report.set_sent(sent_);
      report.set_dead_letters(dead_letters_);
      report.set_done(Done());
      report.set_target_ended(ended_);
      ctx.Reply(std::move(report));
    }
    return absl::OkStatus();
  }

 private:
  // Everything sent and confirmed, or the target ended.
  bool Done() const {
    return ended_ != v1::TERMINATION_REASON_UNSPECIFIED ||
           (sent_ == plan_.count() &&
            (plan_.window() == 0 || confirmed_ == plan_.count()));
  }

  // Sends the next chunk, up to what the window allows, and comes back for
  // more while there is more it may send.
  void Pump(ActorContext& ctx) {
    if (Done() || broken_) {
      return;
    }
    const uint64_t window = plan_.window();
    const uint64_t limit =
        window == 0 ? plan_.count()
                    : std::min(plan_.count(), confirmed_ + 2 * window);
    const uint64_t stop = std::min(limit, sent_ + kChunk);
    LoadMsg msg;
    msg.set_stream(plan_.stream());
    while (sent_ < stop) {
      msg.set_seq(sent_++);
      ctx.Tell(target_, msg);
      if (window != 0 && (sent_ % window == 0 || sent_ == plan_.count())) {
        LoadMark mark;
        mark.set_stream(plan_.stream());
        mark.set_seq(sent_);
        ctx.Tell(target_, std::move(mark));
      }
    }
    if (sent_ < limit && !continue_pending_) {
      continue_pending_ = true;
      ctx.Tell(ctx.Self(), Continue());
    }
  }

  const SourcePlan plan_;
  ActorRef target_;
  uint64_t sent_ = 0;
  uint64_t confirmed_ = 0;
  uint64_t dead_letters_ = 0;
  bool continue_pending_ = false;
  bool broken_ = false;
  v1::TerminationReason ended_ = v1::TERMINATION_REASON_UNSPECIFIED;
};

absl::StatusOr<ActorFactory> MakeSink(const google::protobuf::Any* init) {
  absl::StatusOr<SinkPlan> plan = InitAs<SinkPlan>("load.sink", init);
  if (!plan.ok()) {
    return plan.status();
  }
  return SinkFactory(*plan);
}

absl::StatusOr<ActorFactory> MakeSource(const google::protobuf::Any* init) {
  absl::StatusOr<SourcePlan> plan = InitAs<SourcePlan>("load.source", init);
  if (!plan.ok()) {
    return plan.status();
  }
  if (plan->target().id().empty() || plan->stream().empty()) {
    return absl::InvalidArgumentError(
        "a load.source needs a target and a stream name");
  }
  return SourceFactory(*plan);
}

}  // namespace

ActorFactory SinkFactory(const SinkPlan& plan) {
  const absl::Duration delay = absl::Microseconds(plan.delay_us());
  return [delay] { return std::unique_ptr<Actor>(new Sink(delay)); };
}

ActorFactory SourceFactory(const SourcePlan& plan) {
  return [plan] { return std::unique_ptr<Actor>(new Source(plan)); };
}

TROUPE_REGISTER_KIND("load.sink",
                     "counts LoadMsg per stream and checks their order; init "
                     "SinkPlan (optional); LoadMark, ReportRequest, LoadHold",
                     MakeSink);
TROUPE_REGISTER_KIND("load.source",
                     "sends a numbered stream of LoadMsg to a target; init "
                     "SourcePlan; ReportRequest",
                     MakeSource);

}  // namespace troupe::load
