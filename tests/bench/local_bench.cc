// local_bench: throughput of the local runtime, one line per workload in a
// fixed form tools can read:
//   troupe local_pingpong roundtrips_per_s=<n>
//   troupe local_fanin msgs_per_s=<n>
//   troupe spawn actors_per_s=<n> bytes_per_actor=<n>
//   troupe local_ask asks_per_s=<n> threads=<n>
// Each workload checks that its work really happened (exact counts) and the
// program exits non-zero if not. Run with: bazel run -c opt
// //tests/bench:local_bench
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/wrappers.pb.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/sync.h"
#include "node/service/command_line.h"

ABSL_FLAG(int, threads, 0, "dispatcher threads (0 = one per core)");
ABSL_FLAG(int64_t, roundtrips, 2'000'000, "local_pingpong: round trips");
ABSL_FLAG(int64_t, fanin_per_producer, 1'000'000,
          "local_fanin: messages each of the 4 producers sends");
ABSL_FLAG(int64_t, spawn_actors, 200'000, "spawn: actors spawned");
ABSL_FLAG(int64_t, asks_in_flight, 100'000,
          "local_ask: asks one actor has in flight at once");
ABSL_FLAG(int, ask_targets, 1000, "local_ask: echo actors asked");
ABSL_FLAG(int, ask_rounds, 5, "local_ask: rounds of asks_in_flight asks");
ABSL_FLAG(int, repeat, 3, "runs per workload; the best is printed");

namespace troupe {
namespace {

using google::protobuf::Int64Value;

constexpr absl::Duration kGiveUp = absl::Minutes(2);

// A small actor type for the benchmarks: Receive is a lambda.
class FnActor : public Actor {
 public:
  using Fn = std::function<absl::Status(ActorContext&, const Message&)>;
  explicit FnActor(Fn fn) : fn_(std::move(fn)) {}
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    return fn_(ctx, message);
  }

 private:
  Fn fn_;
};

ActorFactory Fn(FnActor::Fn fn) {
  return [fn] { return std::make_unique<FnActor>(fn); };
}

ActorSystemOptions Options() {
  ActorSystemOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  return options;
}

bool Fail(const char* what) {
  std::fprintf(stderr, "local_bench: %s\n", what);
  return false;
}

// Two actors, one message in flight: A sends n, B answers n, A sends n+1...
bool PingPong(int64_t roundtrips, double* per_second) {
  ActorSystem system(Options());
  Notification done;
  std::atomic<int64_t> completed{0};
  auto pong = system.Spawn(Fn([](ActorContext& ctx, const Message& m) {
    ctx.Reply(*As<Int64Value>(m));
    return absl::OkStatus();
  }));
  auto ping =
      system.Spawn(Fn([&, pong = *pong](ActorContext& ctx, const Message& m) {
        const int64_t n = As<Int64Value>(m)->value();
        if (n == roundtrips) {
          completed = n;
          done.Notify();
          return absl::OkStatus();
        }
        Int64Value next;
        next.set_value(n + 1);
        ctx.Tell(pong, next);
        return absl::OkStatus();
      }));
  if (!pong.ok() || !ping.ok()) {
    return Fail("spawn failed");
  }
  const absl::Time start = absl::Now();
  Int64Value first;
  first.set_value(0);
  system.Tell(*ping, first);
  if (!done.WaitForNotificationWithTimeout(kGiveUp)) {
    return Fail("pingpong did not finish");
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (completed.load() != roundtrips) {
    return Fail("pingpong count is wrong");
  }
  *per_second = roundtrips / seconds;
  return true;
}

// 4 producers each send `per_producer` messages to one counting consumer.
bool FanIn(int64_t per_producer, double* per_second) {
  constexpr int kProducers = 4;
  constexpr int64_t kChunk = 1000;  // a producer yields after each chunk
  const int64_t total = per_producer * kProducers;
  ActorSystem system(Options());
  Notification done;
  int64_t received = 0;  // the consumer's own state
  auto consumer = system.Spawn(Fn([&](ActorContext&, const Message&) {
    if (++received == total) {
      done.Notify();
    }
    return absl::OkStatus();
  }));
  if (!consumer.ok()) {
    return Fail("spawn failed");
  }
  std::vector<ActorRef> producers;
  for (int p = 0; p < kProducers; ++p) {
    auto producer =
        system.Spawn(Fn([sent = int64_t{0}, per_producer, to = *consumer](
                            ActorContext& ctx, const Message&) mutable {
          Int64Value value;
          for (int64_t i = 0; i < kChunk && sent < per_producer; ++i) {
            value.set_value(sent++);
            ctx.Tell(to, value);
          }
          if (sent < per_producer) {
            ctx.Tell(ctx.Self(), "more");
          }
          return absl::OkStatus();
        }));
    if (!producer.ok()) {
      return Fail("spawn failed");
    }
    producers.push_back(*producer);
  }
  const absl::Time start = absl::Now();
  for (const ActorRef& producer : producers) {
    system.Tell(producer, "go");
  }
  if (!done.WaitForNotificationWithTimeout(kGiveUp)) {
    return Fail("fan-in did not finish");
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (system.stats().dead_letters != 0) {
    return Fail("fan-in lost messages");
  }
  *per_second = total / seconds;
  return true;
}

int64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// The process's threads now (from /proc/self/status); 0 when unreadable.
int ThreadCount() {
  std::ifstream status("/proc/self/status");
  std::string word;
  while (status >> word) {
    if (word == "Threads:") {
      int threads = 0;
      status >> threads;
      return threads;
    }
  }
  return 0;
}

// One actor asks `targets` echo actors `in_flight` times at once (the
// answers run as continuations: no thread waits), `rounds` times over.
// Timed from the first ask to the last answer; the thread count is read
// before, and in each round while every ask is in flight (its peak).
bool LocalAsk(int64_t in_flight, int targets, int rounds, double* per_second,
              int* peak_threads) {
  ActorSystem system(Options());
  std::vector<ActorRef> echoes;
  for (int i = 0; i < targets; ++i) {
    auto echo = system.Spawn(Fn([](ActorContext& ctx, const Message& m) {
      ctx.Reply(*As<Int64Value>(m));
      return absl::OkStatus();
    }));
    if (!echo.ok()) {
      return Fail("spawn failed");
    }
    echoes.push_back(*echo);
  }
  Notification done;
  int64_t answered = 0, failed = 0;  // the asker's own state
  int round = 0;
  int peak = ThreadCount();
  std::function<void(ActorContext&)> ask_round;
  ask_round = [&](ActorContext& ctx) {
    Int64Value question;
    for (int64_t i = 0; i < in_flight; ++i) {
      question.set_value(i);
      ctx.Ask(echoes[i % targets], question, kGiveUp,
              [&](ActorContext& ctx, absl::StatusOr<MessagePtr> reply) {
                (reply.ok() ? answered : failed) += 1;
                if (answered + failed == in_flight * (round + 1)) {
                  if (++round == rounds) {
                    done.Notify();
                  } else {
                    ask_round(ctx);
                  }
                }
              });
    }
    peak = std::max(peak, ThreadCount());
  };
  auto asker = system.Spawn(Fn([&](ActorContext& ctx, const Message&) {
    ask_round(ctx);
    return absl::OkStatus();
  }));
  if (!asker.ok()) {
    return Fail("spawn failed");
  }
  const absl::Time start = absl::Now();
  system.Tell(*asker, Int64Value());
  if (!done.WaitForNotificationWithTimeout(kGiveUp)) {
    return Fail("local_ask did not finish");
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (failed != 0 || answered != in_flight * rounds) {
    return Fail("local_ask: some asks failed");
  }
  *per_second = answered / seconds;
  *peak_threads = peak;
  return true;
}

// The spawn workload's run in progress (an actor class has no captures).
struct SpawnRun {
  int64_t count = 0;
  std::atomic<int64_t> stopped{0};
  Notification all_stopped;
};
SpawnRun* current_spawn_run = nullptr;

// Stops on its first message; the last one to stop ends the run. Spawned as
// a class (Spawn<T>), the usual way to define an actor.
class StopOnFirstMessage : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message&) override {
    ctx.Stop();
    SpawnRun& run = *current_spawn_run;
    if (run.stopped.fetch_add(1) + 1 == run.count) {
      run.all_stopped.Notify();
    }
    return absl::OkStatus();
  }
};

// N actors are spawned (all alive at once: RSS is read then), each gets one
// message and stops; timed from the first spawn to the last stop.
bool Spawn(int64_t count, double* per_second, double* bytes_per_actor) {
  ActorSystem system(Options());
  SpawnRun run;
  run.count = count;
  current_spawn_run = &run;
  std::vector<ActorRef> refs;
  refs.reserve(count);
  const int64_t rss_before = ResidentBytes();
  const absl::Time start = absl::Now();
  for (int64_t i = 0; i < count; ++i) {
    auto ref = system.Spawn<StopOnFirstMessage>();
    if (!ref.ok()) {
      return Fail("spawn failed");
    }
    refs.push_back(*std::move(ref));
  }
  const absl::Duration spawning = absl::Now() - start;
  const int64_t rss_alive = ResidentBytes();
  if (system.stats().actors_alive != count) {
    return Fail("not every actor is alive");
  }
  const absl::Time tell_start = absl::Now();
  for (const ActorRef& ref : refs) {
    system.Tell(ref, Int64Value());
  }
  if (!run.all_stopped.WaitForNotificationWithTimeout(kGiveUp)) {
    return Fail("spawned actors did not all stop");
  }
  system.Shutdown(absl::ZeroDuration());
  if (!system.AwaitTermination(kGiveUp) || system.stats().actors_alive != 0) {
    return Fail("actors left alive");
  }
  const absl::Duration stopping = absl::Now() - tell_start;
  *per_second = count / absl::ToDoubleSeconds(spawning + stopping);
  // The refs vector (16 bytes per actor) is the benchmark's, not the
  // runtime's: it is not counted.
  *bytes_per_actor =
      static_cast<double>(rss_alive - rss_before) / count - sizeof(ActorRef);
  return true;
}

int Main() {
  const int repeat = std::max(1, absl::GetFlag(FLAGS_repeat));
  // Spawn runs first, in a fresh process: memory the other workloads freed
  // would otherwise be reused and hide the actors' footprint from RSS. The
  // footprint is taken from the first run for the same reason.
  double spawn_rate = 0, bytes_per_actor = 0, value = 0, bytes = 0;
  for (int i = 0; i < repeat; ++i) {
    if (!Spawn(absl::GetFlag(FLAGS_spawn_actors), &value, &bytes)) return 1;
    spawn_rate = std::max(spawn_rate, value);
    if (i == 0) bytes_per_actor = bytes;
  }
  double pingpong = 0;
  for (int i = 0; i < repeat; ++i) {
    if (!PingPong(absl::GetFlag(FLAGS_roundtrips), &value)) return 1;
    pingpong = std::max(pingpong, value);
  }
  double fanin = 0;
  for (int i = 0; i < repeat; ++i) {
    if (!FanIn(absl::GetFlag(FLAGS_fanin_per_producer), &value)) return 1;
    fanin = std::max(fanin, value);
  }
  double asks = 0;
  int threads = 0, peak = 0;
  for (int i = 0; i < repeat; ++i) {
    if (!LocalAsk(absl::GetFlag(FLAGS_asks_in_flight),
                  absl::GetFlag(FLAGS_ask_targets),
                  absl::GetFlag(FLAGS_ask_rounds), &value, &peak)) {
      return 1;
    }
    asks = std::max(asks, value);
    threads = std::max(threads, peak);
  }
  std::printf("troupe local_pingpong roundtrips_per_s=%.0f\n", pingpong);
  std::printf("troupe local_fanin msgs_per_s=%.0f\n", fanin);
  std::printf("troupe spawn actors_per_s=%.0f bytes_per_actor=%.0f\n",
              spawn_rate, bytes_per_actor);
  std::printf("troupe local_ask asks_per_s=%.0f threads=%d\n", asks, threads);
  return 0;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  troupe::ParseCommandLine(
      "measures the local runtime: ping-pong, fan-in, spawn and ask\n"
      "throughput (asks from inside an actor, with the peak thread count).\n"
      "  bazel run -c opt //tests/bench:local_bench",
      argc, argv);
  return troupe::Main();
}
