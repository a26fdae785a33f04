#include "node/runtime/registry.h"

#include "absl/hash/hash.h"
#include "node/runtime/actor_cell.h"

namespace troupe {
namespace {

constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";

}  // namespace

std::string Base36(uint64_t n) {
  char buffer[16];
  char* end = buffer + sizeof(buffer);
  char* p = end;
  do {
    *--p = kDigits[n % 36];
    n /= 36;
  } while (n > 0);
  return std::string(p, end);
}

std::string Registry::SerialId(uint64_t serial) { return "$" + Base36(serial); }

std::optional<uint64_t> Registry::ParseSerialId(absl::string_view id) {
  if (id.size() < 2 || id.size() > 14 || id[0] != '$') {
    return std::nullopt;  // 13 base-36 digits hold any uint64_t serial used
  }
  uint64_t serial = 0;
  for (char c : id.substr(1)) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'z') {
      digit = c - 'a' + 10;
    } else {
      return std::nullopt;
    }
    serial = serial * 36 + digit;
  }
  if (serial == 0 || SerialId(serial) != id) {
    return std::nullopt;  // not in canonical form (leading zeros)
  }
  return serial;
}

Registry::Shard& Registry::ShardForSerial(uint64_t serial) const {
  return shards_[serial % kShards];
}

Registry::Shard& Registry::ShardForId(absl::string_view id) const {
  return shards_[absl::Hash<absl::string_view>()(id) % kShards];
}

bool Registry::Insert(ActorCell* cell) {
  if (cell->serial() != 0) {
    Shard& shard = ShardForSerial(cell->serial());
    MutexLock lock(&shard.mu);
    return shard.by_serial.emplace(cell->serial(), cell).second;
  }
  Shard& shard = ShardForId(cell->id());
  MutexLock lock(&shard.mu);
  return shard.by_id.emplace(cell->id(), cell).second;
}

void Registry::Erase(const ActorCell* cell) {
  if (cell->serial() != 0) {
    Shard& shard = ShardForSerial(cell->serial());
    MutexLock lock(&shard.mu);
    shard.by_serial.erase(cell->serial());
    return;
  }
  Shard& shard = ShardForId(cell->id());
  MutexLock lock(&shard.mu);
  shard.by_id.erase(cell->id());
}

std::shared_ptr<ActorCell> Registry::Find(absl::string_view id) const {
  // A cell is alive while registered (it holds its own ref until it has
  // unregistered), so shared_from_this is safe under the shard lock.
  if (std::optional<uint64_t> serial = ParseSerialId(id)) {
    Shard& shard = ShardForSerial(*serial);
    MutexLock lock(&shard.mu);
    auto it = shard.by_serial.find(*serial);
    return it == shard.by_serial.end() ? nullptr
                                       : it->second->shared_from_this();
  }
  Shard& shard = ShardForId(id);
  MutexLock lock(&shard.mu);
  auto it = shard.by_id.find(id);
  return it == shard.by_id.end() ? nullptr : it->second->shared_from_this();
}

void Registry::InsertReply(const std::shared_ptr<Process>& process) {
  Shard& shard = ShardForId(process->id());
  MutexLock lock(&shard.mu);
  shard.replies[process->id()] = process;
}

void Registry::EraseReply(const std::string& id) {
  Shard& shard = ShardForId(id);
  MutexLock lock(&shard.mu);
  shard.replies.erase(id);
}

std::shared_ptr<Process> Registry::FindReply(absl::string_view id) const {
  Shard& shard = ShardForId(id);
  MutexLock lock(&shard.mu);
  auto it = shard.replies.find(id);
  return it == shard.replies.end() ? nullptr : it->second.lock();
}

std::vector<std::shared_ptr<ActorCell>> Registry::TopLevel() const {
  std::vector<std::shared_ptr<ActorCell>> cells;
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (const auto& [serial, cell] : shard.by_serial) {
      cells.push_back(cell->shared_from_this());  // serial ids: top-level
    }
    for (const auto& [id, cell] : shard.by_id) {
      if (cell->top_level()) {
        cells.push_back(cell->shared_from_this());
      }
    }
  }
  return cells;
}

}  // namespace troupe
