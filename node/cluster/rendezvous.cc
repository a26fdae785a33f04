#include "node/cluster/rendezvous.h"

namespace troupe {
namespace {

uint64_t Fnv1a(uint64_t hash, absl::string_view bytes) {
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001b3ULL;  // the 64-bit FNV prime
  }
  return hash;
}

// splitmix64's finish: spreads FNV's low-entropy high bits.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t StableHash(absl::string_view a, absl::string_view b) {
  uint64_t hash = Fnv1a(0xcbf29ce484222325ULL, a);  // FNV offset basis
  // Folding 0xff in between keeps ("ab", "c") and ("a", "bc") apart.
  hash = Fnv1a(hash ^ 0xff, b);
  return Mix(hash);
}

std::string RendezvousOwner(const std::vector<std::string>& members,
                            absl::string_view key) {
  const std::string* best = nullptr;
  uint64_t best_score = 0;
  for (const std::string& member : members) {
    const uint64_t score = StableHash(member, key);
    if (best == nullptr || score > best_score ||
        (score == best_score && member < *best)) {
      best = &member;
      best_score = score;
    }
  }
  return best == nullptr ? std::string() : *best;
}

}  // namespace troupe
