#include "node/runtime/input_source.h"

#include "node/runtime/sync.h"

namespace troupe {

bool StopToken::stop_requested() const { return state_->stop_requested(); }

bool StopToken::WaitFor(absl::Duration timeout) const {
  return state_->WaitForStop(timeout);
}

void InputSourceState::RequestStop() {
  MutexLock lock(&mu_);
  stop_ = true;
}

bool InputSourceState::stop_requested() const {
  MutexLock lock(&mu_);
  return stop_;
}

bool InputSourceState::WaitForStop(absl::Duration timeout) const {
  MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stop_), timeout);
  return stop_;
}

void InputSourceState::MarkHandled() {
  MutexLock lock(&mu_);
  handled_ = true;
}

bool InputSourceState::AwaitHandled() {
  MutexLock lock(&mu_);
  auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return handled_ || stop_;
  };
  mu_.Await(absl::Condition(&ready));
  const bool handled = handled_ && !stop_;
  handled_ = false;
  return handled;
}

}  // namespace troupe
