// listing_bench: ListActors on a node with a million actors (README
// "Operations"). Prints how long pages take, how long a whole listing
// takes, and what a listing does to the node meanwhile: the round-trip
// time of asks to an actor of the same node, with and without a listing
// running. A program that prints figures, not a test.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "node/runtime/actor_system.h"
#include "node/service/command_line.h"

ABSL_FLAG(int64_t, actors, 1000000, "idle actors on the node");
ABSL_FLAG(int, page_size, 1000, "actors per page");
ABSL_FLAG(int, threads, 2, "dispatcher threads");

namespace troupe {
namespace {

class Quiet final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& /*m*/) override {
    if (ctx.Sender()) {
      ctx.Reply("pong");
    }
    return absl::OkStatus();
  }
};

struct Latencies {
  std::vector<absl::Duration> samples;
  absl::Duration Quantile(double q) {
    if (samples.empty()) {
      return absl::ZeroDuration();
    }
    std::sort(samples.begin(), samples.end());
    return samples[std::min(samples.size() - 1,
                            static_cast<size_t>(q * samples.size()))];
  }
};

// Asks `echo` one round trip at a time until `stop`.
Latencies Probe(ActorSystem& system, const ActorRef& echo,
                const std::atomic<bool>& stop) {
  Latencies latencies;
  while (!stop.load()) {
    const absl::Time start = absl::Now();
    if (!system.Ask(echo, "ping", absl::Seconds(10)).get().ok()) {
      std::fprintf(stderr, "listing_bench: an ask failed\n");
      break;
    }
    latencies.samples.push_back(absl::Now() - start);
  }
  return latencies;
}

// Lists every actor; the time of each page, and how many were listed.
int64_t ListAll(const ActorSystem& system, absl::string_view kind,
                Latencies* pages) {
  int64_t listed = 0;
  std::string token;
  do {
    const absl::Time start = absl::Now();
    absl::StatusOr<ActorPage> page =
        system.ListActors(kind, absl::GetFlag(FLAGS_page_size), token);
    pages->samples.push_back(absl::Now() - start);
    if (!page.ok()) {
      std::fprintf(stderr, "listing_bench: %s\n",
                   page.status().ToString().c_str());
      return -1;
    }
    listed += page->actors.size();
    token = page->next_page_token;
  } while (!token.empty());
  return listed;
}

std::string Ms(absl::Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.2f", absl::ToDoubleMilliseconds(d));
  return buffer;
}

int Run() {
  ActorSystemOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  ActorSystem system(options);
  const int64_t n = absl::GetFlag(FLAGS_actors);
  SpawnOptions rare;
  rare.kind = "rare";  // one actor in 100: a sparse kind filter
  const absl::Time spawn_start = absl::Now();
  for (int64_t i = 0; i < n; ++i) {
    if (!system.Spawn<Quiet>("", i % 100 == 0 ? rare : SpawnOptions{}).ok()) {
      std::fprintf(stderr, "listing_bench: spawn %lld failed\n",
                   static_cast<long long>(i));
      return 1;
    }
    if ((i + 1) % 250000 == 0) {
      std::fprintf(stderr, "listing_bench: %lld actors spawned\n",
                   static_cast<long long>(i + 1));
    }
  }
  std::fprintf(stderr, "listing_bench: %lld actors in %s\n",
               static_cast<long long>(n),
               absl::FormatDuration(absl::Now() - spawn_start).c_str());
  absl::StatusOr<ActorRef> echo = system.Spawn<Quiet>("echo");
  if (!echo.ok()) {
    return 1;
  }

  // Asks alone, for a baseline.
  std::atomic<bool> stop{false};
  Latencies idle;
  {
    std::thread prober([&] { idle = Probe(system, *echo, stop); });
    absl::SleepFor(absl::Seconds(2));
    stop = true;
    prober.join();
  }
  // Asks while listing everything, then the sparse kind.
  stop = false;
  Latencies busy;
  std::thread prober([&] { busy = Probe(system, *echo, stop); });
  Latencies all_pages, rare_pages;
  const absl::Time list_start = absl::Now();
  const int64_t listed = ListAll(system, "", &all_pages);
  const absl::Duration list_time = absl::Now() - list_start;
  const absl::Time rare_start = absl::Now();
  const int64_t rare_listed = ListAll(system, "rare", &rare_pages);
  const absl::Duration rare_time = absl::Now() - rare_start;
  stop = true;
  prober.join();
  if (listed != n + 1 || rare_listed != (n + 99) / 100) {
    std::fprintf(
        stderr,
        "listing_bench: listed %lld and %lld, expected %lld "
        "and %lld\n",
        static_cast<long long>(listed), static_cast<long long>(rare_listed),
        static_cast<long long>(n + 1), static_cast<long long>((n + 99) / 100));
    return 1;
  }
  const size_t pages = all_pages.samples.size();
  std::printf(
      "troupe list_all actors=%lld pages=%zu total_ms=%s "
      "page_median_ms=%s page_max_ms=%s\n",
      static_cast<long long>(listed), pages, Ms(list_time).c_str(),
      Ms(all_pages.Quantile(0.5)).c_str(), Ms(all_pages.Quantile(1.0)).c_str());
  std::printf(
      "troupe list_kind actors=%lld pages=%zu total_ms=%s "
      "page_max_ms=%s\n",
      static_cast<long long>(rare_listed), rare_pages.samples.size(),
      Ms(rare_time).c_str(), Ms(rare_pages.Quantile(1.0)).c_str());
  std::printf(
      "troupe ask_rtt idle_median_us=%.0f idle_p99_us=%.0f "
      "listing_median_us=%.0f listing_p99_us=%.0f listing_max_us=%.0f\n",
      absl::ToDoubleMicroseconds(idle.Quantile(0.5)),
      absl::ToDoubleMicroseconds(idle.Quantile(0.99)),
      absl::ToDoubleMicroseconds(busy.Quantile(0.5)),
      absl::ToDoubleMicroseconds(busy.Quantile(0.99)),
      absl::ToDoubleMicroseconds(busy.Quantile(1.0)));
  return 0;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  troupe::ParseCommandLine(
      "listing_bench: ListActors on a node with a million actors; prints page "
      "times and ask round trips with and without a listing running.",
      argc, argv);
  return troupe::Run();
}
