#include "node/service/kinds.h"

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "absl/strings/str_join.h"
#include "node/runtime/logging.h"

namespace troupe {

KindRegistry& KindRegistry::Global() {
  static auto* registry = new KindRegistry();
  return *registry;
}

absl::Status KindRegistry::Register(Kind kind) {
  if (kind.name.empty() || !kind.make) {
    return absl::InvalidArgumentError("a kind needs a name and a maker");
  }
  absl::MutexLock lock(&mu_);
  for (const auto& known : kinds_) {
    if (known->name == kind.name) {
      return absl::AlreadyExistsError(
          absl::StrCat("kind '", kind.name, "' is registered twice"));
    }
  }
  kinds_.push_back(std::make_unique<Kind>(std::move(kind)));
  return absl::OkStatus();
}

const Kind* KindRegistry::Find(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  for (const auto& kind : kinds_) {
    if (kind->name == name) {
      return kind.get();
    }
  }
  return nullptr;
}

std::vector<const Kind*> KindRegistry::All() const {
  std::vector<const Kind*> all;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& kind : kinds_) {
      all.push_back(kind.get());
    }
  }
  std::sort(all.begin(), all.end(),
            [](const Kind* a, const Kind* b) { return a->name < b->name; });
  return all;
}

absl::Status KindRegistry::UnknownKind(absl::string_view name) const {
  std::vector<std::string> names;
  for (const Kind* kind : All()) {
    names.push_back(kind->name);
  }
  return absl::NotFoundError(
      absl::StrCat("no kind '", name, "' in this node; known kinds: ",
                   names.empty() ? "(none)" : absl::StrJoin(names, ", ")));
}

bool RegisterKindOrDie(std::string name, std::string description,
                       KindMaker make) {
  return RegisterKindOrDie(
      Kind{std::move(name), std::move(description), std::move(make), {}});
}

bool RegisterKindOrDie(Kind kind) {
  absl::Status status = KindRegistry::Global().Register(std::move(kind));
  if (!status.ok()) {
    Log(LogSeverity::kError, "service", status.ToString());
    std::abort();
  }
  return true;
}

}  // namespace troupe
