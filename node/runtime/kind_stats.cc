#include "node/runtime/kind_stats.h"

#include <cxxabi.h>

#include <cstdlib>
#include <utility>

namespace troupe {
namespace {

std::string Demangle(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  if (status != 0 || name == nullptr) {
    return type.name();
  }
  std::string demangled(name);
  std::free(name);
  return demangled;
}

}  // namespace

KindTable::KindTable() {
  type_maps_.push_back(std::make_unique<TypeMap>());
  by_type_.store(type_maps_.back().get(), std::memory_order_release);
}

KindStats* KindTable::ForName(absl::string_view name) {
  MutexLock lock(&mu_);
  if (auto it = by_name_.find(name); it != by_name_.end()) {
    return it->second;
  }
  if (kinds_.size() >= kMaxKinds) {
    name = kOtherKind;
    if (auto it = by_name_.find(name); it != by_name_.end()) {
      return it->second;
    }
  }
  kinds_.push_back(std::make_unique<KindStats>(std::string(name)));
  return by_name_[name] = kinds_.back().get();
}

KindStats* KindTable::ForType(const std::type_info& type) {
  const TypeMap* types = by_type_.load(std::memory_order_acquire);
  if (auto it = types->find(&type); it != types->end()) {
    return it->second;
  }
  KindStats* stats = ForName(Demangle(type));
  MutexLock lock(&mu_);
  const TypeMap* newest = by_type_.load(std::memory_order_relaxed);
  if (auto it = newest->find(&type); it != newest->end()) {
    return it->second;  // another thread added it meanwhile
  }
  auto copy = std::make_unique<TypeMap>(*newest);
  (*copy)[&type] = stats;
  type_maps_.push_back(std::move(copy));
  by_type_.store(type_maps_.back().get(), std::memory_order_release);
  return stats;
}

std::vector<const KindStats*> KindTable::All() const {
  MutexLock lock(&mu_);
  std::vector<const KindStats*> all;
  all.reserve(kinds_.size());
  for (const auto& kind : kinds_) {
    all.push_back(kind.get());
  }
  return all;
}

}  // namespace troupe
