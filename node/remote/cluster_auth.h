// ClusterAuth: the cluster secret. Every node link and every client call
// carries it in the "x-troupe-secret" metadata; a node with a secret
// refuses calls without the same one (UNAUTHENTICATED, counted). The
// comparison takes the same time wherever the first difference is, and
// the secret is never logged.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ClientContext;
class ServerContextBase;
}  // namespace grpc

namespace troupe {

inline constexpr char kSecretMetadataKey[] = "x-troupe-secret";

class ClusterAuth {
 public:
  // An empty secret: no secret is asked for or sent.
  explicit ClusterAuth(std::string secret) : secret_(std::move(secret)) {}
  ClusterAuth(const ClusterAuth&) = delete;
  ClusterAuth& operator=(const ClusterAuth&) = delete;

  bool has_secret() const { return !secret_.empty(); }

  // OK when the call carries the secret (or none is required), else
  // UNAUTHENTICATED saying what was missing, and counted. Thread-safe.
  absl::Status Check(const grpc::ServerContextBase& context);
  // Adds the secret to an outgoing call's metadata (nothing without one).
  void AddTo(grpc::ClientContext* context) const;
  // Calls refused so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  const std::string secret_;
  std::atomic<uint64_t> refused_{0};
};

// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Reads a secret from `path`: the file's text without surrounding
// whitespace. INVALID_ARGUMENT when it is empty or holds anything but
// printable ASCII (it travels as gRPC metadata); NOT_FOUND /
// PERMISSION_DENIED when it cannot be read.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace troupe
