// GuardUserCode: runs code the runtime does not own (actor methods,
// factories, deciders, input sources) and turns a thrown exception into a
// status, so user code may throw without taking a worker thread down.
#pragma once

#include <exception>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace troupe {

// Returns what `fn` returns (an absl::Status), or INTERNAL carrying the
// exception's text when it throws.
template <typename F>
absl::Status GuardUserCode(F&& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("exception: ", e.what()));
  } catch (...) {
    return absl::InternalError("exception of unknown type");
  }
}

}  // namespace troupe
