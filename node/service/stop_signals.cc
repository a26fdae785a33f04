#include "node/service/stop_signals.h"

#include <pthread.h>

#include <cerrno>
#include <ctime>

namespace troupe {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
}

int StopSignals::Await(absl::Duration limit) const {
  for (;;) {
    int sig = 0;
    if (limit > absl::ZeroDuration()) {
      const timespec timeout = absl::ToTimespec(limit);
      sig = sigtimedwait(&signals_, nullptr, &timeout);
      if (sig < 0 && errno == EAGAIN) {
        return 0;
      }
    } else {
      sig = sigwaitinfo(&signals_, nullptr);
    }
    if (sig > 0) {
      return sig;
    }
    // EINTR: another signal interrupted the wait; wait again. (With a
    // limit this restarts the timeout, which only delays a stop that was
    // never requested by a signal.)
  }
}

}  // namespace troupe
