// StopSignals: how a node program waits for SIGINT/SIGTERM. Construct it
// first thing in main, before any thread starts, so every thread inherits
// the blocked mask and only Await receives the signals.
#pragma once

#include <signal.h>

#include "absl/time/time.h"

namespace troupe {

class StopSignals {
 public:
  // Blocks SIGINT and SIGTERM in the calling thread (and so in every
  // thread started after).
  StopSignals();

  // Waits for SIGINT or SIGTERM, or until `limit` has passed when it is
  // positive. Returns the signal, or 0 when the limit passed.
  int Await(absl::Duration limit = absl::ZeroDuration()) const;

 private:
  sigset_t signals_;
};

}  // namespace troupe
