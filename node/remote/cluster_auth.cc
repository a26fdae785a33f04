#include "node/remote/cluster_auth.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace troupe {

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  // Every byte of the longer is looked at; the lengths are not secret.
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? a[i] : 0;
    const unsigned char y = i < b.size() ? b[i] : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

absl::Status ClusterAuth::Check(const grpc::ServerContextBase& context) {
  if (secret_.empty()) {
    // TLS alone: the CA certificate is no secret, so a caller proves itself
    // with a certificate the CA signed.
    return tls_.enabled() ? CheckPeerCertificate(context,
                                                 "this node has no cluster "
                                                 "secret, so a client must "
                                                 "present a certificate "
                                                 "signed by its CA "
                                                 "(--tls_cert/--tls_key)")
                          : absl::OkStatus();
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kSecretMetadataKey);
  if (it == metadata.end()) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnauthenticatedError(
        "this node requires the cluster secret (metadata x-troupe-secret; "
        "troupectl and troupe_node take --secret_file)");
  }
  const absl::string_view given(it->second.data(), it->second.size());
  if (!ConstantTimeEquals(given, secret_)) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnauthenticatedError("wrong cluster secret (x-troupe-secret)");
  }
  return absl::OkStatus();
}

absl::Status ClusterAuth::CheckLink(const grpc::ServerContextBase& context) {
  if (absl::Status allowed = Check(context); !allowed.ok()) {
    return allowed;
  }
  return tls_.enabled()
             ? CheckPeerCertificate(
                   context,
                   "a node link needs a client certificate signed by this "
                   "node's CA (--tls_cert/--tls_key on the linking node)")
             : absl::OkStatus();
}

absl::Status ClusterAuth::CheckPeerCertificate(
    const grpc::ServerContextBase& context, absl::string_view why) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) {
    refused_.fetch_add(1, std::memory_order_relaxed);
    return absl::UnauthenticatedError(why);
  }
  return absl::OkStatus();
}

std::shared_ptr<grpc::ServerCredentials> NodeServerCredentials(
    const TlsPem& tls) {
  if (!tls.enabled()) {
    return grpc::InsecureServerCredentials();
  }
  // Clients may come without a certificate (the ActorService); one that is
  // presented must verify. Node links check for one (CheckLink).
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls.ca;
  options.pem_key_cert_pairs.push_back({tls.key, tls.cert});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ClusterAuth::LinkCredentials() const {
  return ClientCredentials(tls_);
}

std::shared_ptr<grpc::ChannelCredentials> ClientCredentials(const TlsPem& tls) {
  if (!tls.enabled()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls.ca;
  options.pem_private_key = tls.key;
  options.pem_cert_chain = tls.cert;
  return grpc::SslCredentials(options);
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path,
                                    absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read the ", what, " '",
                                            path, "': ", std::strerror(errno)));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("the ", what, " '", path, "' is not PEM"));
  }
  return text.str();
}

}  // namespace

absl::StatusOr<TlsPem> LoadTls(const std::string& cert_file,
                               const std::string& key_file,
                               const std::string& ca_file, bool client) {
  TlsPem tls;
  if (cert_file.empty() && key_file.empty() && ca_file.empty()) {
    return tls;
  }
  if (ca_file.empty() || (cert_file.empty() != key_file.empty()) ||
      (!client && cert_file.empty())) {
    return absl::InvalidArgumentError(
        client ? "TLS needs --tls_ca, and --tls_cert with --tls_key to "
                 "present a certificate"
               : "TLS needs all of --tls_cert, --tls_key and --tls_ca");
  }
  struct File {
    const std::string& path;
    std::string* pem;
    absl::string_view what;
  };
  for (const File& file : {File{cert_file, &tls.cert, "certificate"},
                           File{key_file, &tls.key, "key"},
                           File{ca_file, &tls.ca, "CA certificate"}}) {
    if (file.path.empty()) {
      continue;
    }
    absl::StatusOr<std::string> pem = ReadPem(file.path, file.what);
    if (!pem.ok()) {
      return pem.status();
    }
    *file.pem = *std::move(pem);
  }
  return tls;
}

void ClusterAuth::AddTo(grpc::ClientContext* context) const {
  if (!secret_.empty()) {
    context->AddMetadata(kSecretMetadataKey, secret_);
  }
}

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    const std::string why = absl::StrCat("cannot read the secret file '", path,
                                         "': ", std::strerror(error));
    return error == EACCES ? absl::PermissionDeniedError(why)
                           : absl::NotFoundError(why);
  }
  std::ostringstream text;
  text << in.rdbuf();
  std::string secret(absl::StripAsciiWhitespace(text.str()));
  if (secret.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the secret file '", path, "' is empty"));
  }
  for (char c : secret) {
    if (c < 0x20 || c > 0x7e) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the secret in '", path,
          "' must be printable ASCII (it travels as gRPC metadata)"));
    }
  }
  return secret;
}

}  // namespace troupe
