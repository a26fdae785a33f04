// EnvelopeObserver: told when a message it sent has been handled or dropped,
// so a sender that keeps at most one message in flight (an input source, a
// periodic tell) knows when it may send the next.
#pragma once

namespace troupe {

class EnvelopeObserver {
 public:
  // Called once per envelope the observer is attached to, when that envelope
  // is destroyed: after the receiver handled it, or when it became a dead
  // letter, was serialized onto a link, or was dropped. Runs on whichever
  // thread releases the envelope (a dispatcher, a link, a timer): must be
  // thread-safe and must not block.
  virtual void EnvelopeGone() = 0;

 protected:
  ~EnvelopeObserver() = default;
};

}  // namespace troupe
