// playground: pyctor's ping-pong, across two nodes. A Teacher on node A
// creates Mike on node A and Sarah on node B, watches both, and tells Mike
// to play with Sarah. The students send "ping!" and "pong!" with a delay;
// either may say "bye!" and leave, and the other follows. The Teacher counts
// the Terminated notices and, when both students are gone, ends the day.
//
//   bazel run //examples/playground [-- --delay=1s --seed=7]
#include <cstdio>
#include <memory>
#include <random>
#include <string>

#include "absl/flags/flag.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "examples/common/example_cluster.h"
#include "examples/playground/playground.pb.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"

ABSL_FLAG(absl::Duration, delay, absl::Milliseconds(500),
          "time between a ball and its return (pyctor used 1s)");
ABSL_FLAG(double, bye, 0.25, "chance that a student says bye! instead");
ABSL_FLAG(uint64_t, seed, 0, "seeds the students' dice; 0 = random");

namespace troupe::examples {
namespace {

using google::protobuf::StringValue;

// A student: returns every ball after the delay, or says bye and leaves.
class Student final : public Actor {
 public:
  explicit Student(StudentInit init)
      : init_(std::move(init)),
        random_(init_.seed() != 0 ? init_.seed() : std::random_device()()) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* play = As<Play>(message)) {
      ctx.Watch(play->student());  // if the partner's node dies, leave too
      ServeLater(ctx, ctx.Ref(play->student()), "ping!");
      return absl::OkStatus();
    }
    if (const auto* serve = As<Serve>(message)) {
      Say(ctx, ctx.Ref(serve->to()), serve->text());
      return absl::OkStatus();
    }
    if (Is<Terminated>(message)) {
      ctx.Stop();  // the partner left without a word
      return absl::OkStatus();
    }
    const absl::string_view text = TextOf(message);
    if (text.empty() || !ctx.Sender()) {
      return absl::OkStatus();
    }
    if (text == "bye!") {
      ctx.Stop();  // the other one left: follow
    } else if (absl::Bernoulli(random_, init_.bye_probability())) {
      Say(ctx, ctx.Sender(), "bye!");
      ctx.Stop();
    } else {
      ServeLater(ctx, ctx.Sender(), text == "ping!" ? "pong!" : "ping!");
    }
    return absl::OkStatus();
  }

 private:
  // Tells the teacher what is said, then `to`: both leave in that order on
  // the same link, so the teacher prints the line before `to` can answer.
  void Say(ActorContext& ctx, const ActorRef& to, absl::string_view text) {
    Said said;
    said.set_from(ctx.Self().id());
    said.set_to(to.id());
    said.set_text(std::string(text));
    ctx.Tell(init_.teacher(), std::move(said));
    ctx.Tell(to, Text(text));
  }

  // Says `text` to `to` after the delay.
  void ServeLater(ActorContext& ctx, const ActorRef& to,
                  absl::string_view text) {
    Serve serve;
    *serve.mutable_to() = PidOf(to);
    serve.set_text(std::string(text));
    ctx.Tell(ctx.Self(), std::move(serve),
             TellOptions{absl::Milliseconds(init_.delay_ms())});
  }

  const StudentInit init_;
  std::mt19937_64 random_;
};

absl::StatusOr<ActorFactory> MakeStudent(const google::protobuf::Any* init) {
  absl::StatusOr<StudentInit> parsed = InitAs<StudentInit>("student", init);
  if (!parsed.ok()) {
    return parsed.status();
  }
  StudentInit copy = *parsed;
  return ActorFactory([copy] { return std::make_unique<Student>(copy); });
}

// The teacher: brings the students, starts the match, prints what they say,
// and leaves when both are gone.
class Teacher final : public Actor {
 public:
  Teacher(std::string sarahs_node, StudentInit student)
      : sarahs_node_(std::move(sarahs_node)), student_(std::move(student)) {}

  absl::Status Started(ActorContext& ctx) override {
    Say("it's playtime!");
    *student_.mutable_teacher() = PidOf(ctx.Self());
    // Mike here, on node A.
    StudentInit mikes = student_;
    mikes.set_seed(student_.seed() == 0 ? 0 : student_.seed() * 2 + 1);
    absl::StatusOr<ActorRef> mike = ctx.System().Spawn(
        [mikes] { return std::make_unique<Student>(mikes); }, "Mike");
    if (!mike.ok()) {
      return mike.status();
    }
    mike_ = *mike;
    ctx.Watch(mike_);
    // Sarah on node B.
    StudentInit sarahs = student_;
    sarahs.set_seed(student_.seed() == 0 ? 0 : student_.seed() * 2 + 2);
    ctx.SpawnOn(sarahs_node_, "student", "Sarah", &sarahs, absl::Seconds(10),
                [this](ActorContext& ctx, absl::StatusOr<ActorRef> sarah) {
                  if (sarah.ok()) {
                    StartMatch(ctx, *sarah);
                  } else {
                    std::printf("[%s] Teacher: Sarah could not come: %s\n",
                                Now().c_str(),
                                sarah.status().ToString().c_str());
                    ctx.Stop(mike_);
                  }
                });
    return absl::OkStatus();
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    // A student's Terminated comes after its last words.
    if (const auto* said = As<Said>(message)) {
      std::printf("[%s] %s to %s: %s\n", Now().c_str(), said->from().c_str(),
                  said->to().c_str(), said->text().c_str());
    } else if (const auto* gone = As<Terminated>(message)) {
      std::printf("[%s] Teacher: %s has left (%s)\n", Now().c_str(),
                  gone->ref().id().c_str(),
                  v1::TerminationReason_Name(gone->reason()).c_str());
      if (++gone_ == 2) {
        Say("time to go back.");
        ctx.Stop();
      }
    }
    std::fflush(stdout);
    return absl::OkStatus();
  }

 private:
  void StartMatch(ActorContext& ctx, const ActorRef& sarah) {
    ctx.Watch(sarah);
    std::printf("[%s] Teacher: Mike is on node A (%s), Sarah on node B (%s)\n",
                Now().c_str(), mike_.address().c_str(),
                sarah.address().c_str());
    Play play;
    *play.mutable_student() = PidOf(sarah);
    std::printf("[%s] Teacher to Mike: Play(student=Sarah)\n", Now().c_str());
    ctx.Tell(mike_, std::move(play));
    std::fflush(stdout);
  }

  static void Say(const char* what) {
    std::printf("[%s] Teacher: %s\n", Now().c_str(), what);
    std::fflush(stdout);
  }

  const std::string sarahs_node_;
  StudentInit student_;
  ActorRef mike_;
  int gone_ = 0;
};

int Run() {
  absl::StatusOr<std::unique_ptr<ExampleCluster>> cluster =
      ExampleCluster::Start(/*others=*/1);
  if (!cluster.ok()) {
    std::fprintf(stderr, "playground: %s\n",
                 cluster.status().ToString().c_str());
    return 1;
  }
  StudentInit student;
  student.set_delay_ms(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_delay)));
  student.set_bye_probability(absl::GetFlag(FLAGS_bye));
  student.set_seed(absl::GetFlag(FLAGS_seed));
  ActorSystem& system = (*cluster)->system();
  const std::string node_b = (*cluster)->node(0);
  absl::StatusOr<ActorRef> teacher = system.Spawn(
      [node_b, student] { return std::make_unique<Teacher>(node_b, student); },
      "Teacher");
  if (!teacher.ok()) {
    std::fprintf(stderr, "playground: %s\n",
                 teacher.status().ToString().c_str());
    return 1;
  }
  // The day ends when the teacher leaves.
  Inbox inbox(system);
  inbox.Watch(*teacher);
  if (!inbox.ReceiveAs<Terminated>(absl::Minutes(5)).ok()) {
    std::fprintf(stderr, "playground: the match did not end in 5 minutes\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace troupe::examples

TROUPE_REGISTER_KIND("student",
                     "a playground student (init troupe.examples.StudentInit)",
                     troupe::examples::MakeStudent);

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(
      argc, argv,
      "pyctor's playground across two nodes: a Teacher on node A, Mike on\n"
      "node A and Sarah on node B play ping-pong until one says bye.\n"
      "  bazel run //examples/playground [-- --delay=1s --seed=7]",
      troupe::examples::Run);
}
