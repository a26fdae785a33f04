// Fuzzes the parsing of refs from text (troupe://host:port/id), which
// clients, troupectl and messages hand to a node.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "node/runtime/pid.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<troupe::Pid> pid = troupe::ParsePid(text);
  if (pid.ok()) {
    // What parses prints back to something that parses to the same pid.
    absl::StatusOr<troupe::Pid> again = troupe::ParsePid(pid->ToString());
    if (!again.ok() || *again != *pid) {
      __builtin_trap();
    }
  }
  (void)troupe::IsNodeAddress(text);
  (void)troupe::ValidateActorName(text);
  return 0;
}
