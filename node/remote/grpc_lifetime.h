// KeepGrpcAlive: keeps gRPC's process-wide machinery up for the rest of the
// process. Two gRPC 1.51 defects make this necessary:
//
// - gRPC shuts itself down when its last object goes away and starts again
//   with the next one; the restart races with the callback threads of the
//   previous run.
// - The callback API's shared completion queue is reference-counted by the
//   channels and servers that use it. When the last reference is dropped on
//   one of that queue's own threads (a reaction releasing the last channel,
//   as when a node's last link ends after its server is gone), the queue
//   cannot join that thread, frees itself anyway, and the process aborts in
//   grpc_cq_internal_unref (grpc/grpc#32584).
//
// One initialization, and one reference to the shared queue held by a
// server that is never destroyed, avoid both.
#pragma once

namespace troupe {

// Idempotent and thread-safe; call before creating any gRPC object.
void KeepGrpcAlive();

}  // namespace troupe
