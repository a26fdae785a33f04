#include "node/service/rpc_counters.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "node/service/grpc_status.h"

namespace troupe {

void RpcCounters::Count(absl::string_view method, int code) {
  absl::MutexLock lock(&mu_);
  auto key = std::make_pair(std::string(method), code);
  if (auto it = calls_.find(key); it != calls_.end()) {
    ++it->second;
    return;
  }
  if (calls_.size() >= kMaxSeries) {
    key.first = std::string(kOtherMethod);
  }
  ++calls_[key];
}

std::string RpcCounters::Path(
    const google::protobuf::MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

grpc::Status RpcCounters::End(RpcCounters* rpcs, absl::string_view method,
                              const absl::Status& status) {
  grpc::Status ended = ToGrpcStatus(status);
  if (rpcs != nullptr) {
    rpcs->Count(method, ended.error_code());
  }
  return ended;
}

std::vector<RpcCounters::Series> RpcCounters::Read() const {
  absl::MutexLock lock(&mu_);
  std::vector<Series> series;
  series.reserve(calls_.size());
  for (const auto& [key, calls] : calls_) {
    series.push_back(Series{key.first, key.second, calls});
  }
  return series;
}

}  // namespace troupe
