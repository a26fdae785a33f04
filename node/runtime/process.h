// Process: what an ActorRef points at. A local actor's cell is one; a remote
// actor's proxy (node/remote) is another; so is an ask's reply slot. Sending
// to a Process never fails: what cannot be delivered becomes a dead letter.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "node/runtime/pid.h"

namespace troupe {

class Envelope;
struct SystemMessage;
using EnvelopePtr = std::unique_ptr<Envelope>;
using SystemMessagePtr = std::unique_ptr<SystemMessage>;

class Process {
 public:
  // `address` must outlive the process (use InternAddress).
  Process(const std::string* address, std::string id, uint64_t incarnation)
      : address_(address), id_(std::move(id)), incarnation_(incarnation) {}
  virtual ~Process() = default;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  // Delivers a user message (FIFO per sender). Takes ownership. Thread-safe.
  virtual void SendUser(EnvelopePtr envelope) = 0;

  // Delivers a system message (stop, watch, unwatch, terminated,
  // supervision); these overtake user messages. Takes ownership.
  // Thread-safe.
  virtual void SendSystem(SystemMessagePtr message) = 0;

  // True once the process will never handle another message. Thread-safe;
  // a hint for fast paths (a false answer may be stale).
  virtual bool IsTerminated() const = 0;

  const std::string& address() const { return *address_; }
  const std::string& id() const { return id_; }
  uint64_t incarnation() const { return incarnation_; }
  Pid pid() const { return Pid{*address_, id_, incarnation_}; }

 private:
  const std::string* const address_;
  const std::string id_;
  const uint64_t incarnation_;
};

// A stable pointer to one copy of `address`, shared by every process of that
// node (saves a string per actor). Thread-safe; never freed.
const std::string* InternAddress(absl::string_view address);

}  // namespace troupe
