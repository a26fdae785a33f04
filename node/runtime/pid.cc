#include "node/runtime/pid.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace troupe {
namespace {

constexpr absl::string_view kScheme = "troupe://";

bool IsValidAddress(absl::string_view address) {
  return address == kLocalAddress || IsNodeAddress(address);
}

}  // namespace

bool IsNodeAddress(absl::string_view address) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return false;
  }
  int port = 0;
  return absl::SimpleAtoi(address.substr(colon + 1), &port) && port > 0 &&
         port <= 65535;
}

std::string Pid::ToString() const {
  return absl::StrCat(kScheme, address, "/", id);
}

absl::StatusOr<Pid> ParsePid(absl::string_view text) {
  if (!absl::StartsWith(text, kScheme)) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor ref '", text, "' does not start with troupe://"));
  }
  absl::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos || slash + 1 == rest.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "actor ref '", text, "' has no id (troupe://host:port/id)"));
  }
  Pid pid;
  pid.address = std::string(rest.substr(0, slash));
  pid.id = std::string(rest.substr(slash + 1));
  if (!IsValidAddress(pid.address)) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor ref '", text, "': '", pid.address,
                     "' is not host:port or local"));
  }
  return pid;
}

absl::Status ValidateActorName(absl::string_view name) {
  if (name.empty()) {
    return absl::InvalidArgumentError("actor name is empty");
  }
  if (name.size() > 255) {
    return absl::InvalidArgumentError(
        absl::StrCat("actor name is longer than 255 bytes: ", name.size()));
  }
  if (name[0] == '$') {
    return absl::InvalidArgumentError(
        absl::StrCat("actor name '", name,
                     "' starts with '$', reserved for generated names"));
  }
  if (name[0] == '@') {
    return absl::InvalidArgumentError(absl::StrCat(
        "actor name '", name, "' starts with '@', reserved for identities"));
  }
  for (char c : name) {
    if (c == '/' || absl::ascii_isspace(static_cast<unsigned char>(c)) ||
        absl::ascii_iscntrl(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(
          absl::StrCat("actor name '", name,
                       "' contains '/', a space or a control character"));
    }
  }
  return absl::OkStatus();
}

}  // namespace troupe
