// The one place where absl::Status becomes grpc::Status (the codes are the
// same numbers; the message is kept).
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace troupe {

inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace troupe
