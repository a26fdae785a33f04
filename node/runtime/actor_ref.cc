#include "node/runtime/actor_ref.h"

namespace troupe {
namespace {

const std::string& EmptyString() {
  static const std::string* const empty = new std::string();
  return *empty;
}

}  // namespace

const std::string& ActorRef::address() const {
  return process_ ? process_->address() : EmptyString();
}

const std::string& ActorRef::id() const {
  return process_ ? process_->id() : EmptyString();
}

uint64_t ActorRef::incarnation() const {
  return process_ ? process_->incarnation() : 0;
}

std::string ActorRef::ToString() const {
  return process_ ? process_->pid().ToString() : "troupe://nobody";
}

}  // namespace troupe
