#include "node/remote/liveness.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace troupe {
namespace {

absl::Duration Decayed(absl::Duration gap, absl::Time since, absl::Time now) {
  if (gap == absl::ZeroDuration() || now <= since) {
    return gap;
  }
  return gap * std::exp2(-absl::FDivDuration(now - since, kGapHalfLife));
}

}  // namespace

void Liveness::Heard(absl::Time now) {
  const absl::Duration gap = now - last_heard_;
  const absl::Duration longest = Decayed(longest_gap_, gap_at_, now);
  if (gap >= longest) {
    longest_gap_ = gap;
    gap_at_ = now;
  }
  last_heard_ = std::max(last_heard_, now);
}

Silence Liveness::silence(absl::Time now) const {
  return Silence{last_heard_, Decayed(longest_gap_, gap_at_, now)};
}

void RoundTripEstimate::Add(absl::Duration sample) {
  if (sample < absl::ZeroDuration()) {
    return;
  }
  if (!measured_) {
    measured_ = true;
    srtt_ = sample;
    rttvar_ = sample / 2;
    return;
  }
  rttvar_ = (3 * rttvar_ + absl::AbsDuration(srtt_ - sample)) / 4;
  srtt_ = (7 * srtt_ + sample) / 8;
}

void PeerLiveness::Heard(absl::Time now) {
  MutexLock lock(&mu_);
  liveness_.Heard(now);
}

void PeerLiveness::Restart(absl::Time now) {
  MutexLock lock(&mu_);
  liveness_.Restart(now);
}

void PeerLiveness::NoteHandshake(absl::Duration took) {
  MutexLock lock(&mu_);
  if (!round_trip_.measured()) {
    round_trip_.Add(took);
  }
}

absl::Duration PeerLiveness::round_trip() const {
  MutexLock lock(&mu_);
  return round_trip_.smoothed();
}

void PeerLiveness::NoteRoundTrip(absl::Duration round_trip) {
  MutexLock lock(&mu_);
  round_trip_.Add(round_trip);
}

Silence PeerLiveness::silence(absl::Time now) const {
  MutexLock lock(&mu_);
  Silence silence = liveness_.silence(now);
  silence.round_trip_allowance = round_trip_.Allowance();
  return silence;
}

std::optional<std::string> PeerLiveness::Judge(
    absl::Time now, const LinkOptions& options) const {
  return JudgeSilence(silence(now), now, options);
}

absl::Duration AllowedSilence(const Silence& silence,
                              const LinkOptions& options) {
  return std::min(
      options.max_failure_threshold,
      std::max(options.failure_threshold, silence.recent_gap * kGapFactor) +
          silence.round_trip_allowance);
}

std::optional<std::string> JudgeSilence(const Silence& silence, absl::Time now,
                                        const LinkOptions& options) {
  const absl::Duration silent = now - silence.last_heard;
  const absl::Duration allowed = AllowedSilence(silence, options);
  if (silent <= allowed) {
    return std::nullopt;
  }
  return absl::StrCat("nothing heard from it for ",
                      absl::ToInt64Milliseconds(silent), " ms (allowed ",
                      absl::ToInt64Milliseconds(allowed), " ms)");
}

}  // namespace troupe
