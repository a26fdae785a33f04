// Fuzzes Any payload resolution: a client's or peer's google.protobuf.Any
// (type URL and bytes) turned into a message of a linked type, and back.
#include <cstddef>
#include <cstdint>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "node/runtime/message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);  // parse errors are expected
    return true;
  }();
  (void)quiet;
  google::protobuf::Any any;
  if (!any.ParseFromArray(data, static_cast<int>(size))) {
    return 0;
  }
  absl::StatusOr<troupe::MessagePtr> message = troupe::UnpackAny(any);
  if (message.ok()) {
    // What unpacks packs again as the same type.
    const google::protobuf::Any again = troupe::PackAny(**message);
    if (!troupe::UnpackAny(again).ok()) {
      __builtin_trap();
    }
    (void)troupe::CloneMessage(**message);
  }
  return 0;
}
