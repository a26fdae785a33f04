#include "node/remote/cluster_auth.h"

#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/ascii.h"

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
    return absl::OkStatus();
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
    return absl::UnauthenticatedError(
        "wrong cluster secret (x-troupe-secret)");
  }
  return absl::OkStatus();
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
