// ClusterAuth: who may talk to a node. The cluster secret: every node link
// and every client call carries it in the "x-troupe-secret" metadata; a
// node with a secret refuses calls without the same one (UNAUTHENTICATED,
// counted). The comparison takes the same time wherever the first
// difference is, and the secret is never logged. TLS: with a CA, the
// node's port speaks only TLS, node links are mutual (each side presents a
// certificate signed by the CA), and clients must trust the CA; without a
// secret, clients must present a certificate signed by the CA too.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "node/remote/link_options.h"

namespace grpc {
class ChannelCredentials;
class ClientContext;
class ServerContextBase;
class ServerCredentials;
}  // namespace grpc

namespace troupe {

inline constexpr char kSecretMetadataKey[] = "x-troupe-secret";

class ClusterAuth {
 public:
  // An empty secret: no secret is asked for or sent. `tls` not enabled:
  // plaintext.
  ClusterAuth(std::string secret, TlsPem tls)
      : secret_(std::move(secret)), tls_(std::move(tls)) {}
  ClusterAuth(const ClusterAuth&) = delete;
  ClusterAuth& operator=(const ClusterAuth&) = delete;

  bool has_secret() const { return !secret_.empty(); }

  // OK when the call carries the secret, else UNAUTHENTICATED saying what
  // was missing, and counted. Without a secret: OK, except over TLS, where
  // the caller must then present a certificate the CA signed. Thread-safe.
  absl::Status Check(const grpc::ServerContextBase& context);
  // As Check, and for a node link over TLS also that the peer presented a
  // certificate the CA signed.
  absl::Status CheckLink(const grpc::ServerContextBase& context);
  // Adds the secret to an outgoing call's metadata (nothing without one).
  void AddTo(grpc::ClientContext* context) const;
  // The credentials for the node's links to peers.
  std::shared_ptr<grpc::ChannelCredentials> LinkCredentials() const;
  // Calls refused so far.
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  // UNAUTHENTICATED with `why` (counted) unless the TLS peer presented a
  // certificate the CA signed.
  absl::Status CheckPeerCertificate(const grpc::ServerContextBase& context,
                                    absl::string_view why);

  const std::string secret_;
  const TlsPem tls_;
  std::atomic<uint64_t> refused_{0};
};

// Credentials for a node's port: TLS with `tls` when enabled (clients may
// present a certificate, which must then verify), else plaintext.
std::shared_ptr<grpc::ServerCredentials> NodeServerCredentials(
    const TlsPem& tls);

// Credentials for a client of a node: TLS trusting `tls.ca` (presenting
// tls.cert/tls.key when given) when enabled, else plaintext.
std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const TlsPem& tls);

// Reads the three PEM files. All empty: TLS off. Otherwise all three are
// needed (a client may leave cert and key out when `client` is true);
// INVALID_ARGUMENT naming what is missing or not PEM, NOT_FOUND for a file
// that cannot be read.
absl::StatusOr<TlsPem> LoadTls(const std::string& cert_file,
                               const std::string& key_file,
                               const std::string& ca_file, bool client);

// Compares in time that depends only on the lengths.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b);

// Reads a secret from `path`: the file's text without surrounding
// whitespace. INVALID_ARGUMENT when it is empty or holds anything but
// printable ASCII (it travels as gRPC metadata); NOT_FOUND /
// PERMISSION_DENIED when it cannot be read.
absl::StatusOr<std::string> ReadSecretFile(const std::string& path);

}  // namespace troupe
