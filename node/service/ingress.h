// ActorIngress: every actor service a node's kinds serve (Kind::services,
// from protoc-gen-troupe's FooActor::KindOf), served as a real gRPC
// service at /package.Service/Method, so a client in any language calls an
// actor with the stubs stock protoc generates and nothing of troupe's.
//
// Built once, generically: per service, a grpc::Service whose methods are
// the descriptor pool's, each a raw callback handler over byte buffers
// (gRPC's generic callback API); the request is parsed as the method's
// input type, sent to the actor the metadata names (call_target.h) as a
// typed call, wherever it lives in the cluster, and its answer written
// back. Registering each service by name (rather than one catch-all
// generic service) is what lets server reflection list them, and lets gRPC
// itself answer UNIMPLEMENTED for a service no kind serves.
//
// Errors are ActorService's codes (proto/troupe.proto): INVALID_ARGUMENT (no
// or a malformed target, a request that does not parse), NOT_FOUND,
// UNAVAILABLE, DEADLINE_EXCEEDED (the call's deadline; without one,
// ActorServiceOptions::default_ask_timeout), RESOURCE_EXHAUSTED,
// UNAUTHENTICATED (a wrong or missing cluster secret); UNIMPLEMENTED for a
// method the actor does not implement; and whatever status the actor
// failed the call with.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "node/remote/node.h"
#include "node/service/actor_service.h"
#include "node/service/kinds.h"

namespace troupe {

class ActorIngress {
 public:
  // The services of every kind `kinds` holds now (kinds register at
  // start-up, before this). `kinds` must outlive the ingress.
  ActorIngress(const KindRegistry* kinds, ActorServiceOptions options);
  ~ActorIngress();

  // One per actor service, for the node's server; owned by the ingress.
  std::vector<grpc::Service*> services() const;
  // The full names of the services served, in the order of services().
  const std::vector<std::string>& service_names() const { return names_; }

  // Gives the ingress its node (calls before fail UNAVAILABLE); null
  // detaches it: calls waiting for an actor, and open streams, end
  // UNAVAILABLE. Thread-safe.
  void Attach(Node* node);

  class Core;

 private:
  std::shared_ptr<Core> core_;
  std::vector<std::unique_ptr<grpc::Service>> services_;
  std::vector<std::string> names_;
};

}  // namespace troupe
