// ReflectionGuard: the cluster secret for server reflection. gRPC's
// reflection service (Debian's libgrpc++_reflection) looks at no metadata,
// so a server interceptor on its one method applies ClusterAuth::Check to
// each call: a call that fails it learns nothing (every request it sends
// is emptied before the service reads it, every answer replaced by an
// error_response naming the cause) and ends UNAUTHENTICATED. TLS needs no
// guard: it holds for the whole port. A node installs it only when it has
// a secret: once any interceptor is installed, gRPC runs its interception
// machinery on every call of the port, which costs (see node.cc).
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <atomic>
#include <memory>

#include "node/remote/cluster_auth.h"

namespace troupe {

// The factory for the node's server (ServerBuilder::experimental()
// .SetInterceptorCreators). `auth` points at the node's ClusterAuth once
// its remoting exists (null until then: calls are refused as UNAVAILABLE);
// it must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewReflectionGuard(const std::atomic<ClusterAuth*>* auth);

}  // namespace troupe
