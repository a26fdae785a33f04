// RemoteProcess: what a ref to an actor on another node points at. Sends go
// to the peer's Endpoint; watches are kept in the endpoint's table on this
// (the watcher's) node.
#pragma once

#include <memory>

#include "node/runtime/process.h"

namespace troupe {

class Endpoint;

class RemoteProcess final : public Process,
                            public std::enable_shared_from_this<RemoteProcess> {
 public:
  // `endpoint` is the link to the node at `pid.address`.
  RemoteProcess(std::shared_ptr<Endpoint> endpoint, std::string id,
                uint64_t incarnation, uint64_t uid);

  // Queues for the peer; a full queue or a down peer makes a dead letter.
  void SendUser(EnvelopePtr envelope) override;
  // Stop, watch and unwatch go to the peer; nothing else applies to a
  // remote actor.
  void SendSystem(SystemMessagePtr message) override;
  // Unknown here: a remote actor is reported ended only through a watch.
  bool IsTerminated() const override { return false; }

 private:
  const std::shared_ptr<Endpoint> endpoint_;
};

}  // namespace troupe
