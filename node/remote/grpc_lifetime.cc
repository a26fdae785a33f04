#include "node/remote/grpc_lifetime.h"

#include <grpc/grpc.h>
#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

namespace troupe {
namespace {

// Answers nothing: it exists so that its server holds a reference to the
// callback API's shared completion queue.
class NoService final : public grpc::CallbackGenericService {};

}  // namespace

void KeepGrpcAlive() {
  // Deliberately never destroyed (reachable from these statics until exit).
  static grpc::Server* const holder = [] {
    grpc_init();  // never balanced by grpc_shutdown
    static NoService service;
    grpc::ServerBuilder builder;  // no ports: nobody can call it
    builder.RegisterCallbackGenericService(&service);
    return builder.BuildAndStart().release();
  }();
  (void)holder;
}

}  // namespace troupe
