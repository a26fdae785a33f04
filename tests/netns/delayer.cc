// delayer: holds each packet an iptables NFQUEUE rule hands it for a
// delay of D +- J (uniform), then lets it go: latency and jitter for the
// multi-host tests, on a kernel without netem (../shared/notes/
// multi-host-testing.md). Loss is iptables' own (`-m statistic`). Packets
// may leave out of order when J > 0, as with netem.
//
//   ip netns exec ROUTER iptables -I FORWARD -j NFQUEUE --queue-num 7
//   ip netns exec ROUTER delayer --queue=7 --delay=100ms --jitter=20ms
//
// Prints "delayer ready" once bound, and a summary line on SIGINT/SIGTERM.
// One thread: netlink's handle is not shared.
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <queue>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

ABSL_FLAG(int, queue, 0, "the NFQUEUE number the iptables rule names");
ABSL_FLAG(absl::Duration, delay, absl::Milliseconds(100),
          "how long each packet is held");
ABSL_FLAG(absl::Duration, jitter, absl::ZeroDuration(),
          "plus or minus this much, uniformly");

namespace {

volatile sig_atomic_t stopping = 0;
void Stop(int) { stopping = 1; }

struct Held {
  absl::Time release;
  uint32_t id;
  bool operator>(const Held& other) const { return release > other.release; }
};

struct State {
  absl::Duration delay;
  absl::Duration jitter;
  absl::BitGen random;
  std::priority_queue<Held, std::vector<Held>, std::greater<Held>> held;
  uint64_t packets = 0;
};

int OnPacket(nfq_q_handle* /*queue*/, nfgenmsg* /*message*/, nfq_data* data,
             void* arg) {
  auto* state = static_cast<State*>(arg);
  const nfqnl_msg_packet_hdr* header = nfq_get_msg_packet_hdr(data);
  if (header == nullptr) {
    return 0;
  }
  absl::Duration wait = state->delay;
  if (state->jitter > absl::ZeroDuration()) {
    wait += absl::Microseconds(
        absl::Uniform<int64_t>(absl::IntervalClosed, state->random,
                               -absl::ToInt64Microseconds(state->jitter),
                               absl::ToInt64Microseconds(state->jitter)));
  }
  state->held.push(Held{absl::Now() + std::max(wait, absl::ZeroDuration()),
                        ntohl(header->packet_id)});
  ++state->packets;
  return 0;
}

int Fail(const char* what) {
  std::fprintf(stderr, "delayer: %s failed: %s\n", what, std::strerror(errno));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "holds packets from an NFQUEUE for --delay +- --jitter, then accepts "
      "them.\n  delayer --queue=N --delay=100ms --jitter=20ms");
  absl::ParseCommandLine(argc, argv);
  State state;
  state.delay = absl::GetFlag(FLAGS_delay);
  state.jitter = absl::GetFlag(FLAGS_jitter);
  signal(SIGINT, Stop);
  signal(SIGTERM, Stop);

  nfq_handle* handle = nfq_open();
  if (handle == nullptr) {
    return Fail("nfq_open");
  }
  nfq_q_handle* queue = nfq_create_queue(
      handle, static_cast<uint16_t>(absl::GetFlag(FLAGS_queue)), &OnPacket,
      &state);
  if (queue == nullptr) {
    return Fail("nfq_create_queue (is another program bound to the queue?)");
  }
  if (nfq_set_mode(queue, NFQNL_COPY_META, 0) < 0) {
    return Fail("nfq_set_mode");
  }
  nfq_set_queue_maxlen(queue, 65536);
  const int fd = nfq_fd(handle);
  std::printf("delayer ready: queue %d, %s +- %s\n", absl::GetFlag(FLAGS_queue),
              absl::FormatDuration(state.delay).c_str(),
              absl::FormatDuration(state.jitter).c_str());
  std::fflush(stdout);

  std::vector<char> buffer(1 << 16);
  while (!stopping) {
    int wait_ms = 100;
    if (!state.held.empty()) {
      wait_ms = static_cast<int>(std::clamp<int64_t>(
          absl::ToInt64Milliseconds(state.held.top().release - absl::Now()), 0,
          100));
    }
    pollfd ready{fd, POLLIN, 0};
    if (poll(&ready, 1, wait_ms) > 0) {
      const ssize_t n = recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
      if (n > 0) {
        nfq_handle_packet(handle, buffer.data(), static_cast<int>(n));
      }
    }
    const absl::Time now = absl::Now();
    while (!state.held.empty() && state.held.top().release <= now) {
      nfq_set_verdict(queue, state.held.top().id, NF_ACCEPT, 0, nullptr);
      state.held.pop();
    }
  }
  while (!state.held.empty()) {  // nothing is left held
    nfq_set_verdict(queue, state.held.top().id, NF_ACCEPT, 0, nullptr);
    state.held.pop();
  }
  std::printf("delayer: %llu packets delayed\n",
              static_cast<unsigned long long>(state.packets));
  nfq_destroy_queue(queue);
  nfq_close(handle);
  return 0;
}
