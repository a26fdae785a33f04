// ActorRef: the value type that names an actor and sends to it. Copy,
// compare, hash and print it freely; it works the same whether the actor is
// in this process or on another node.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>

#include "node/runtime/pid.h"
#include "node/runtime/process.h"

namespace troupe {

class ActorRef {
 public:
  // Refers to no actor ("nobody"): the sender of a message sent from outside
  // any actor. Sending to it drops nothing silently: see ActorSystem::Tell.
  ActorRef() = default;
  explicit ActorRef(std::shared_ptr<Process> process)
      : process_(std::move(process)) {}

  explicit operator bool() const { return process_ != nullptr; }

  // The fields of the actor's Pid; empty/0 for nobody.
  const std::string& address() const;
  const std::string& id() const;
  uint64_t incarnation() const;
  uint64_t uid() const { return process_ ? process_->uid() : 0; }
  Pid pid() const { return process_ ? process_->pid() : Pid(); }

  // troupe://address/id, or "troupe://nobody".
  std::string ToString() const;

  // The process messages go to (nullptr for nobody). For the runtime and
  // remoting; programs send with ActorSystem/ActorContext::Tell.
  Process* process() const { return process_.get(); }
  const std::shared_ptr<Process>& shared_process() const { return process_; }

  friend bool operator==(const ActorRef& a, const ActorRef& b) {
    if (a.process_ == b.process_) {
      return true;
    }
    if (a.process_ == nullptr || b.process_ == nullptr) {
      return false;
    }
    return a.process_->uid() == b.process_->uid() &&
           a.process_->incarnation() == b.process_->incarnation() &&
           a.process_->id() == b.process_->id() &&
           a.process_->address() == b.process_->address();
  }
  friend bool operator!=(const ActorRef& a, const ActorRef& b) {
    return !(a == b);
  }
  template <typename H>
  friend H AbslHashValue(H h, const ActorRef& ref) {
    return H::combine(std::move(h), ref.address(), ref.id(), ref.incarnation(),
                      ref.uid());
  }
  friend std::ostream& operator<<(std::ostream& os, const ActorRef& ref) {
    return os << ref.ToString();
  }

 private:
  std::shared_ptr<Process> process_;
};

}  // namespace troupe
