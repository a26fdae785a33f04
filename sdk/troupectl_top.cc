// troupectl top: a node's live view, drawn with ncurses. Every rate comes
// from two Stats samples (the counters only grow, so a difference over the
// time between the samples is a rate); the first frame waits for the
// second sample, and so does the first after the node restarted (its
// counters start again from zero).
#include <unistd.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "sdk/troupectl_ops.h"

// Last: curses defines macros (timeout, erase, ...) that would rewrite the
// generated protobuf code above.
#include <curses.h>  // NOLINT(build/include_order)

namespace troupe {
namespace {

struct Sample {
  absl::Time at;
  v1::StatsReply stats;
};

double Rate(uint64_t before, uint64_t after, absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  return after >= before && seconds > 0 ? (after - before) / seconds : 0;
}

// Ends curses however the view ends.
class Screen {
 public:
  Screen() {
    initscr();
    raw();  // Ctrl-C arrives as a key (3): the view ends cleanly
    noecho();
    curs_set(0);
    keypad(stdscr, TRUE);
  }
  ~Screen() { endwin(); }
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;
};

void Line(int& row, const std::string& text, int attributes = A_NORMAL) {
  if (row >= LINES) {
    return;
  }
  attron(attributes);
  mvaddnstr(row++, 0, text.c_str(), COLS);
  attroff(attributes);
}

void Draw(const Sample* previous, const Sample& current,
          absl::Duration interval, const std::string& error) {
  erase();
  int row = 0;
  const v1::StatsReply& now = current.stats;
  Line(row,
       absl::StrFormat("troupe top  node %s  incarnation %016x  every %s  "
                       "(q or Ctrl-C quits)",
                       now.address(), now.incarnation(),
                       absl::FormatDuration(interval)),
       A_BOLD);
  if (!error.empty()) {
    Line(row, absl::StrCat("cannot reach the node: ", error), A_BOLD);
  }
  if (previous == nullptr) {
    Line(row, "measuring (rates need two samples)...");
    refresh();
    return;
  }
  const v1::StatsReply& then = previous->stats;
  const absl::Duration elapsed = current.at - previous->at;
  Line(row,
       absl::StrFormat(
           "messages/s %-10.0f dead letters/s %-8.0f actors alive %-9d "
           "asks in flight %-6d heap %.1f MB",
           Rate(then.messages_processed(), now.messages_processed(), elapsed),
           Rate(then.dead_letters(), now.dead_letters(), elapsed),
           now.actors_alive(), now.asks_in_flight(), now.heap_bytes() / 1e6));
  ++row;
  // The busiest kinds first.
  absl::flat_hash_map<std::string, uint64_t> before;
  for (const v1::KindStats& kind : then.actor_kinds()) {
    before[kind.kind()] = kind.messages_processed();
  }
  std::vector<std::pair<double, const v1::KindStats*>> kinds;
  for (const v1::KindStats& kind : now.actor_kinds()) {
    kinds.emplace_back(
        Rate(before[kind.kind()], kind.messages_processed(), elapsed), &kind);
  }
  std::stable_sort(
      kinds.begin(), kinds.end(),
      [](const auto& a, const auto& b) { return a.first > b.first; });
  Line(row, absl::StrFormat("%-44s %10s %12s", "KIND", "ALIVE", "MSGS/S"),
       A_REVERSE);
  for (const auto& [rate, kind] : kinds) {
    if (row >= LINES / 2) {
      break;
    }
    Line(row, absl::StrFormat("%-44.44s %10d %12.0f", kind->kind(),
                              kind->alive(), rate));
  }
  ++row;
  absl::flat_hash_map<std::string, const v1::LinkStats*> links_before;
  for (const v1::LinkStats& link : then.links()) {
    links_before[link.address()] = &link;
  }
  Line(row,
       absl::StrFormat("%-28s %-11s %10s %10s %7s %8s %8s", "PEER", "STATE",
                       "SENT/S", "RECV/S", "DOWNS", "ALLOWED", "RTT"),
       A_REVERSE);
  for (const v1::LinkStats& link : now.links()) {
    const v1::LinkStats* was = links_before[link.address()];
    Line(row,
         absl::StrFormat("%-28.28s %-11s %10.0f %10.0f %7d %6.0fms %6.1fms",
                         link.address(), link.state(),
                         Rate(was ? was->messages_sent() : 0,
                              link.messages_sent(), elapsed),
                         Rate(was ? was->messages_received() : 0,
                              link.messages_received(), elapsed),
                         link.downs(), link.allowed_silence_seconds() * 1000,
                         link.round_trip_seconds() * 1000));
  }
  refresh();
}

}  // namespace

absl::Status RunTop(Client& client, absl::Duration interval) {
  if (interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--interval must be positive");
  }
  if (!isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO)) {
    return absl::FailedPreconditionError(
        "top draws on a terminal: run it in one (not through a pipe)");
  }
  absl::StatusOr<v1::StatsReply> first = client.Stats();
  if (!first.ok()) {
    return first.status();
  }
  Screen screen;
  Sample previous{absl::Now(), *std::move(first)};
  Sample current = previous;
  bool have_two = false;
  std::string error;
  for (;;) {
    Draw(have_two ? &previous : nullptr, current, interval, error);
    timeout(static_cast<int>(absl::ToInt64Milliseconds(interval)));
    const int key = getch();
    if (key == 'q' || key == 'Q' || key == 3) {  // 3: Ctrl-C under raw()
      return absl::OkStatus();
    }
    if (key != ERR) {
      continue;  // any other key redraws at once
    }
    absl::StatusOr<v1::StatsReply> stats = client.Stats();
    if (!stats.ok()) {
      error = std::string(stats.status().message());
      continue;
    }
    error.clear();
    // A node that restarted counts from zero again: its rates need two
    // samples of the new incarnation.
    have_two = stats->incarnation() == current.stats.incarnation();
    previous = std::move(current);
    current = Sample{absl::Now(), *std::move(stats)};
  }
}

}  // namespace troupe
