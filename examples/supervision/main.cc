// supervision: the actors library's supervision, on a node of its own. A
// tree grandparent -> parent -> worker runs on node B; node A drives it and
// prints what each actor reports. The parent's strategy maps the worker's
// failure to a directive:
//   bad input -> resume (state kept)      corrupted -> restart (fresh state)
//   fatal     -> stop                     unknown   -> escalate (the
//   grandparent restarts the parent, and the worker with it)
// and at most 2 restarts a minute, after which the worker is stopped.
//
//   bazel run //examples/supervision
#include <cstdio>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "examples/common/example_cluster.h"
#include "examples/supervision/supervision.pb.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/envelope.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"

namespace troupe::examples {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

// Sends an Event to `reporter` from wherever (hooks, deciders).
void Report(const ActorRef& reporter, absl::string_view who,
            absl::string_view what) {
  Event event;
  event.set_who(std::string(who));
  event.set_what(std::string(what));
  AnonymousTell(reporter, std::move(event));
}

// Counts "add"s; fails on request.
class Worker final : public Actor {
 public:
  explicit Worker(ActorRef reporter) : reporter_(std::move(reporter)) {}

  absl::Status Started(ActorContext& /*ctx*/) override {
    Report(reporter_, "worker", "started, count 0");
    return absl::OkStatus();
  }
  void PreRestart(ActorContext& /*ctx*/, const absl::Status& reason) override {
    Report(reporter_, "worker",
           absl::StrCat("restarting (count was ", count_,
                        ") after: ", reason.message()));
  }
  absl::Status PostRestart(ActorContext& /*ctx*/,
                           const absl::Status& /*reason*/) override {
    Report(reporter_, "worker", "restarted with fresh state, count 0");
    return absl::OkStatus();
  }
  void Stopped(ActorContext& /*ctx*/) override {
    Report(reporter_, "worker",
           absl::StrCat("stopped (count was ", count_, ")"));
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (IsText(message, "add")) {
      ++count_;
    } else if (const auto* fail = As<Fail>(message)) {
      const std::string& how = fail->how();
      if (how == "bad input") return absl::InvalidArgumentError(how);
      if (how == "corrupted") return absl::DataLossError(how);
      if (how == "fatal") return absl::FailedPreconditionError(how);
      return absl::UnknownError(how);
    } else if (!IsText(message, "count")) {
      return absl::OkStatus();
    }
    google::protobuf::Int64Value count;
    count.set_value(count_);
    ctx.Reply(std::move(count));
    return absl::OkStatus();
  }

 private:
  const ActorRef reporter_;
  int64_t count_ = 0;
};

// Supervises the worker; makes a new one on "new worker".
class Parent final : public Actor {
 public:
  explicit Parent(ActorRef reporter) : reporter_(std::move(reporter)) {}

  absl::Status Started(ActorContext& ctx) override {
    Report(reporter_, "parent", "started");
    return NewWorker(ctx);
  }
  void PreRestart(ActorContext& /*ctx*/, const absl::Status& reason) override {
    Report(reporter_, "parent",
           absl::StrCat("restarting after: ", reason.message()));
  }
  absl::Status PostRestart(ActorContext& ctx,
                           const absl::Status& /*reason*/) override {
    Report(reporter_, "parent",
           absl::StrCat("restarted; it keeps its ", ctx.Children().size(),
                        " child"));
    return absl::OkStatus();
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (IsText(message, "new worker")) {
      return NewWorker(ctx);
    }
    if (const auto* gone = As<Terminated>(message)) {
      Report(reporter_, "parent",
             absl::StrCat("its worker is gone (",
                          v1::TerminationReason_Name(gone->reason()), ")"));
    }
    return absl::OkStatus();
  }

  SupervisorStrategy supervisor_strategy() const override {
    SupervisorStrategy strategy;
    strategy.max_restarts = 2;
    strategy.within = absl::Minutes(1);
    const ActorRef reporter = reporter_;
    strategy.decider = [reporter](const Failure& failure) {
      Directive directive = Directive::kEscalate;
      const char* name = "escalate";
      switch (failure.error.code()) {
        case absl::StatusCode::kInvalidArgument:
          directive = Directive::kResume, name = "resume";
          break;
        case absl::StatusCode::kDataLoss:
          directive = Directive::kRestart, name = "restart";
          break;
        case absl::StatusCode::kFailedPrecondition:
          directive = Directive::kStop, name = "stop";
          break;
        default:
          break;
      }
      Report(reporter, "parent",
             absl::StrCat("worker failed (", failure.error.message(), ") -> ",
                          name));
      return directive;
    };
    return strategy;
  }

 private:
  absl::Status NewWorker(ActorContext& ctx) {
    const ActorRef reporter = reporter_;
    absl::StatusOr<ActorRef> worker =
        ctx.Spawn([reporter] { return std::make_unique<Worker>(reporter); });
    if (!worker.ok()) {
      return worker.status();
    }
    ctx.Watch(*worker);
    WorkerIs is;
    *is.mutable_worker() = PidOf(*worker);
    ctx.Tell(reporter_, std::move(is));
    return absl::OkStatus();
  }

  const ActorRef reporter_;
};

// Restarts the parent when it escalates.
class Grandparent final : public Actor {
 public:
  explicit Grandparent(TreeInit init) : init_(std::move(init)) {}

  absl::Status Started(ActorContext& ctx) override {
    reporter_ = ctx.Ref(init_.reporter());
    const ActorRef reporter = reporter_;
    return ctx
        .Spawn([reporter] { return std::make_unique<Parent>(reporter); },
               "parent")
        .status();
  }

  absl::Status Receive(ActorContext& /*ctx*/, const Message& /*m*/) override {
    return absl::OkStatus();
  }

  SupervisorStrategy supervisor_strategy() const override {
    SupervisorStrategy strategy;
    const ActorRef reporter = reporter_;
    strategy.decider = [reporter](const Failure& failure) {
      Report(reporter, "grandparent",
             absl::StrCat("parent escalated (", failure.error.message(),
                          ") -> restart it"));
      return Directive::kRestart;
    };
    return strategy;
  }

 private:
  const TreeInit init_;
  ActorRef reporter_;
};

absl::StatusOr<ActorFactory> MakeGrandparent(
    const google::protobuf::Any* init) {
  absl::StatusOr<TreeInit> parsed = InitAs<TreeInit>("grandparent", init);
  if (!parsed.ok()) {
    return parsed.status();
  }
  TreeInit copy = *parsed;
  return ActorFactory([copy] { return std::make_unique<Grandparent>(copy); });
}

// --- Driver (node A)
// ----------------------------------------------------------

class Driver {
 public:
  explicit Driver(ActorSystem& system) : system_(system), events_(system) {}

  Inbox& events() { return events_; }

  // Prints what has arrived.
  void Drain() {
    for (;;) {
      absl::StatusOr<Inbox::Received> got =
          events_.Receive(absl::ZeroDuration());
      if (!got.ok()) {
        return;
      }
      Show(*got->message);
    }
  }

  // Waits until a WorkerIs arrives (printing events meanwhile).
  bool AwaitWorker() {
    for (;;) {
      absl::StatusOr<Inbox::Received> got = events_.Receive(kWait);
      if (!got.ok()) {
        return false;
      }
      Show(*got->message);
      if (Is<WorkerIs>(*got->message)) {
        return true;
      }
    }
  }

  // Prints events until the watched worker's Terminated has come.
  bool AwaitEnd() {
    for (;;) {
      absl::StatusOr<Inbox::Received> got = events_.Receive(kWait);
      if (!got.ok()) {
        return false;
      }
      Show(*got->message);
      if (Is<Terminated>(*got->message)) {
        return true;
      }
    }
  }

  // Asks the worker its count; everything the tree reported before the
  // answer is printed first (it came over the same link, earlier).
  absl::StatusOr<int64_t> Count() {
    absl::StatusOr<MessagePtr> reply =
        system_.Ask(worker_, Text("count"), kWait).get();
    Drain();
    if (!reply.ok()) {
      return reply.status();
    }
    return As<google::protobuf::Int64Value>(**reply)->value();
  }

  void Step(const std::string& what) {
    std::printf("\nstep: %s\n", what.c_str());
    std::fflush(stdout);
  }

  void Tell(const Message& message) {
    system_.Tell(worker_, CloneMessage(message));
  }

  const ActorRef& worker() const { return worker_; }

 private:
  void Show(const Message& message) {
    if (const auto* event = As<Event>(message)) {
      std::printf("  %-13s %s\n", (event->who() + ":").c_str(),
                  event->what().c_str());
    } else if (const auto* is = As<WorkerIs>(message)) {
      worker_ = system_.Ref(is->worker());
      std::printf("  (the worker is %s)\n", worker_.ToString().c_str());
    } else if (const auto* gone = As<Terminated>(message)) {
      std::printf("  %-13s %s\n", "node A:",
                  absl::StrCat("watched worker ended: ",
                               v1::TerminationReason_Name(gone->reason()))
                      .c_str());
    }
    std::fflush(stdout);
  }

  ActorSystem& system_;
  Inbox events_;
  ActorRef worker_;
};

Fail FailBy(const std::string& how) {
  Fail fail;
  fail.set_how(how);
  return fail;
}

int Run() {
  absl::StatusOr<std::unique_ptr<ExampleCluster>> cluster =
      ExampleCluster::Start(/*others=*/1);
  if (!cluster.ok()) {
    std::fprintf(stderr, "supervision: %s\n",
                 cluster.status().ToString().c_str());
    return 1;
  }
  ActorSystem& system = (*cluster)->system();
  Driver driver(system);
  std::printf(
      "a grandparent -> parent -> worker tree on node B (%s), driven "
      "from node A (%s)\n",
      (*cluster)->node(0).c_str(), (*cluster)->a().address().c_str());
  TreeInit init;
  *init.mutable_reporter() = PidOf(driver.events().ref());
  if (!(*cluster)->SpawnOn(0, "grandparent", "grandparent", &init).ok() ||
      !driver.AwaitWorker()) {
    std::fprintf(stderr, "supervision: the tree did not start\n");
    return 1;
  }

  auto count = [&driver](const char* expect) {
    absl::StatusOr<int64_t> n = driver.Count();
    if (n.ok()) {
      std::printf("  count is %lld (%s)\n", static_cast<long long>(*n), expect);
    } else {
      std::printf("  count: %s\n", n.status().ToString().c_str());
    }
    std::fflush(stdout);
    return n.ok();
  };

  if (!count("0: the tree is up")) return 1;

  driver.Step("three adds");
  for (int i = 0; i < 3; ++i) driver.Tell(Text("add"));
  if (!count("3")) return 1;

  driver.Step("the worker fails on bad input: resumed");
  driver.Tell(FailBy("bad input"));
  if (!count("still 3: resumed with its state")) return 1;

  driver.Step("the worker's state is corrupted: restarted");
  driver.Tell(FailBy("corrupted"));
  if (!count("0: a fresh instance")) return 1;

  driver.Step("an unknown failure: escalated to the grandparent");
  driver.Tell(Text("add"));
  driver.Tell(FailBy("unknown"));
  if (!count("0: restarted with its parent")) return 1;

  driver.Step("corrupted again: the second restart this minute");
  driver.Tell(Text("add"));
  driver.Tell(FailBy("corrupted"));
  if (!count("0: restarted")) return 1;

  driver.Step("corrupted a third time: over the limit of 2 restarts, stopped");
  driver.events().Watch(driver.worker());
  driver.Tell(FailBy("corrupted"));
  if (!driver.AwaitEnd()) return 1;
  std::printf("  (the restart limit turned the third restart into a stop)\n");
  std::printf("  asked again: %s\n",
              std::string(driver.Count().status().message()).c_str());

  driver.Step("a new worker fails fatally: stopped at once");
  absl::StatusOr<ActorRef> parent =
      system.LookupOn((*cluster)->node(0), "grandparent/parent", kWait).get();
  if (!parent.ok()) return 1;
  system.Tell(*parent, Text("new worker"));
  if (!driver.AwaitWorker()) return 1;
  if (!count("0")) return 1;
  driver.events().Watch(driver.worker());
  driver.Tell(FailBy("fatal"));
  if (!driver.AwaitEnd()) return 1;
  std::printf("\ndone\n");
  return 0;
}

}  // namespace
}  // namespace troupe::examples

TROUPE_REGISTER_KIND("grandparent",
                     "the supervision example's tree (init "
                     "troupe.examples.TreeInit)",
                     troupe::examples::MakeGrandparent);

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(
      argc, argv,
      "the actors library's supervision on node B, driven from node A: a\n"
      "worker's failures are resumed, restarted or stopped by its parent's\n"
      "strategy, escalation reaches the grandparent, and a restart limit\n"
      "ends in stop.\n"
      "  bazel run //examples/supervision",
      troupe::examples::Run);
}
