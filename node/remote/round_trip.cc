#include "node/remote/round_trip.h"

#include <algorithm>

namespace troupe {
namespace {

uint64_t Micros(absl::Time t) {
  return static_cast<uint64_t>(absl::ToUnixMicros(t));
}

}  // namespace

void RoundTrip::RequestProbe() {
  MutexLock lock(&mu_);
  probe_asked_ = true;
  due_.store(true, std::memory_order_relaxed);
}

void RoundTrip::Reset() {
  MutexLock lock(&mu_);
  probe_asked_ = false;
  echo_probe_ = 0;
  due_.store(false, std::memory_order_relaxed);
}

void RoundTrip::Stamp(v1::Frame* frame) {
  if (!due_.load(std::memory_order_relaxed)) {
    return;
  }
  MutexLock lock(&mu_);
  const absl::Time now = clock_.Now();  // after any Read that holds mu_
  if (probe_asked_) {
    frame->set_probe(Micros(now));
    probe_asked_ = false;
  }
  if (echo_probe_ != 0) {
    v1::Echo* echo = frame->mutable_echo();
    echo->set_probe(echo_probe_);
    echo->set_held_micros(static_cast<uint64_t>(
        std::max<int64_t>(0, absl::ToInt64Microseconds(now - echo_read_at_))));
    echo_probe_ = 0;
  }
  due_.store(false, std::memory_order_relaxed);
}

std::optional<absl::Duration> RoundTrip::Read(const v1::Frame& frame,
                                              absl::Time now) {
  if (frame.probe() == 0 && !frame.has_echo()) {
    return std::nullopt;
  }
  if (frame.probe() != 0) {
    MutexLock lock(&mu_);
    echo_probe_ = frame.probe();
    echo_read_at_ = now;
    due_.store(true, std::memory_order_relaxed);
  }
  if (!frame.has_echo() || frame.echo().probe() == 0) {
    return std::nullopt;
  }
  // Unsigned micros: a probe from the future or too long ago, or a held
  // time longer than the whole exchange, is not a sample.
  const uint64_t elapsed = Micros(now) - frame.echo().probe();
  if (frame.echo().probe() > Micros(now) ||
      elapsed > static_cast<uint64_t>(
                    absl::ToInt64Microseconds(kMaxRoundTripSample)) ||
      frame.echo().held_micros() > elapsed) {
    return std::nullopt;
  }
  return absl::Microseconds(
      static_cast<int64_t>(elapsed - frame.echo().held_micros()));
}

}  // namespace troupe
