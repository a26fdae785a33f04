// Registry, part two: listing the live actors a page at a time, and an
// actor's children, for operators (ActorSystem::ListActors and Inspect).
#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/runtime/actor_cell.h"
#include "node/runtime/registry.h"

namespace troupe {
namespace {

// Where a listing goes on: in shard `shard`, among the generated ids
// (after serial `serial`) or the named ones (after `name`).
struct Cursor {
  size_t shard = 0;
  bool named = false;
  bool has_key = false;
  uint64_t serial = 0;
  std::string name;
};

// The start of a shard's generated ids, or of its names.
Cursor StartOf(size_t shard, bool named) {
  Cursor cursor;
  cursor.shard = shard;
  cursor.named = named;
  return cursor;
}

// "<shard>.s<serial>" or "<shard>.n<id>", the id (a name, or a child's
// "parent/name") in URL-safe base64 (RFC 4648 section 5): a name may hold
// any byte but '/', whitespace and control characters, and a token must be
// valid UTF-8 (a proto string) and safe to paste into a shell.
std::string TokenOf(const Cursor& cursor) {
  return cursor.named ? absl::StrCat(cursor.shard, ".n",
                                     absl::WebSafeBase64Escape(cursor.name))
                      : absl::StrCat(cursor.shard, ".s", cursor.serial);
}

absl::StatusOr<Cursor> ParseToken(absl::string_view token, size_t shards) {
  Cursor cursor;
  if (token.empty()) {
    return cursor;
  }
  const size_t dot = token.find('.');
  if (dot == absl::string_view::npos || dot + 1 >= token.size() ||
      !absl::SimpleAtoi(token.substr(0, dot), &cursor.shard) ||
      cursor.shard >= shards) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token '", token, "' is not one a ListActors reply gave"));
  }
  cursor.has_key = true;
  const absl::string_view key = token.substr(dot + 2);
  if (token[dot + 1] == 'n') {
    cursor.named = true;
    if (!absl::WebSafeBase64Unescape(key, &cursor.name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "page_token '", token, "' is not one a ListActors reply gave"));
    }
  } else if (token[dot + 1] != 's' || !absl::SimpleAtoi(key, &cursor.serial)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_token '", token, "' is not one a ListActors reply gave"));
  }
  return cursor;
}

// About what one listed actor adds to a reply: its id, its kind, and the
// numbers and framing around them.
size_t ListedBytes(const ActorSnapshot& actor) {
  return actor.id.size() + actor.kind.size() + 48;
}

// What one page may hold: `room` more actors and `bytes_left` more bytes
// (Registry::kListPageBytes); `scanned` counts what was looked at.
struct PageRoom {
  size_t room;
  size_t bytes_left;
  size_t scanned = 0;
};

// Lists one part of a shard, `map` (its generated ids by serial, or its
// names), after `after` (when `has_key`), into `page`, in key order, within
// `room`; true when the page filled before the part ended, and then
// `after` is the last key listed. The shard's lock is held.
template <typename Map, typename Key, typename Matches>
bool ListPart(const Map& map, bool has_key, Key& after, const Matches& matches,
              PageRoom& room, ActorPage& page) {
  using View = typename Map::key_type;  // uint64_t, or absl::string_view
  std::vector<std::pair<View, const ActorCell*>> found;
  for (const auto& [key, cell] : map) {
    if ((!has_key || key > after) && matches(cell)) {
      found.emplace_back(key, cell);
    }
  }
  room.scanned += map.size();
  bool cut = found.size() > room.room;
  if (cut) {
    std::nth_element(found.begin(), found.begin() + room.room, found.end());
    found.resize(room.room);
  }
  std::sort(found.begin(), found.end());
  size_t taken = 0;
  for (; taken < found.size(); ++taken) {
    ActorSnapshot actor = found[taken].second->snapshot();
    const size_t bytes = ListedBytes(actor);
    if (bytes > room.bytes_left && !page.actors.empty()) {
      cut = true;  // full by bytes; this one starts the next page
      break;
    }
    room.bytes_left -= std::min(bytes, room.bytes_left);
    --room.room;
    page.actors.push_back(std::move(actor));
  }
  if (taken > 0) {
    after = Key(found[taken - 1].first);
  }
  return cut;
}

}  // namespace

absl::StatusOr<ActorPage> Registry::List(absl::string_view kind,
                                         size_t page_size,
                                         absl::string_view page_token) const {
  absl::StatusOr<Cursor> cursor = ParseToken(page_token, kShards);
  if (!cursor.ok()) {
    return cursor.status();
  }
  const auto matches = [kind](const ActorCell* cell) {
    return kind.empty() || cell->kind().name == kind;
  };
  ActorPage page;
  PageRoom room{page_size, kListPageBytes};
  for (Cursor at = *cursor; at.shard < kShards;
       at = StartOf(at.shard + 1, /*named=*/false)) {
    if (room.scanned >= kListScanLimit || room.room == 0) {
      page.next_page_token = TokenOf(at);  // the start of the next shard
      return page;
    }
    Shard& shard = shards_[at.shard];
    MutexLock lock(&shard.mu);
    if (!at.named) {
      if (ListPart(shard.by_serial, at.has_key, at.serial, matches, room,
                   page)) {
        page.next_page_token = TokenOf(at);
        return page;
      }
      at = StartOf(at.shard, /*named=*/true);
    }
    if (ListPart(shard.by_id, at.has_key, at.name, matches, room, page)) {
      page.next_page_token = TokenOf(at);
      return page;
    }
  }
  return page;
}

std::pair<std::vector<std::string>, size_t> Registry::Children(
    absl::string_view id, size_t limit) const {
  const std::string prefix = absl::StrCat(id, "/");
  std::vector<std::string> children;
  size_t count = 0;
  for (Shard& shard : shards_) {
    MutexLock lock(&shard.mu);
    for (const auto& [child, cell] : shard.by_id) {
      if (absl::StartsWith(child, prefix) &&
          child.find('/', prefix.size()) == absl::string_view::npos) {
        ++count;
        if (children.size() < limit) {
          children.emplace_back(child);
        }
      }
    }
  }
  return {std::move(children), count};
}

}  // namespace troupe
