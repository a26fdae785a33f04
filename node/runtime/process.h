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

// One copy of a node's address, shared by the processes that name it (a
// string per node rather than per actor), and freed with the last of them:
// refs to nodes that are gone cost nothing once they are dropped.
using NodeAddress = std::shared_ptr<const std::string>;
inline NodeAddress MakeNodeAddress(absl::string_view address) {
  return std::make_shared<const std::string>(address);
}

class Process {
 public:
  // `address` is shared by the processes of one node (see NodeAddress);
  // `uid` is the actor's own identity (pid.h), 0 for a name-only ref.
  Process(NodeAddress address, std::string id, uint64_t incarnation,
          uint64_t uid = 0)
      : address_(std::move(address)),
        id_(std::move(id)),
        incarnation_(incarnation),
        uid_(uid) {}
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
  uint64_t uid() const { return uid_; }
  Pid pid() const { return Pid{*address_, id_, incarnation_, uid_}; }

 private:
  const NodeAddress address_;
  const std::string id_;
  const uint64_t incarnation_;
  const uint64_t uid_;
};

}  // namespace troupe
