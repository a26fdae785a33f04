#include "sdk/troupectl_ops.h"

#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"

namespace troupe {
namespace {

void PrintActor(const v1::ActorInfo& actor) {
  std::printf("%-40s %-28s %8llu %10llu %9.1fs\n", actor.id().c_str(),
              actor.kind().c_str(),
              static_cast<unsigned long long>(actor.mailbox_depth()),
              static_cast<unsigned long long>(actor.messages_handled()),
              actor.age_seconds());
}

}  // namespace

absl::Status RunActors(Client& client, const ActorsCommand& command) {
  v1::ListActorsRequest request;
  request.set_node(command.node);
  request.set_kind(command.kind);
  request.set_page_size(command.page_size);
  request.set_page_token(command.page_token);
  std::printf("%-40s %-28s %8s %10s %10s\n", "ID", "KIND", "DEPTH", "HANDLED",
              "AGE");
  const absl::Time start = absl::Now();
  uint64_t actors = 0;
  int pages = 0;
  std::string node;
  for (;;) {
    absl::StatusOr<v1::ListActorsReply> page = client.ListActors(request);
    if (!page.ok()) {
      return page.status();
    }
    ++pages;
    node = page->node();
    for (const v1::ActorInfo& actor : page->actors()) {
      PrintActor(actor);
    }
    actors += page->actors_size();
    if (page->next_page_token().empty()) {
      break;
    }
    if (!command.all) {
      std::printf("(more: --page_token=%s)\n", page->next_page_token().c_str());
      return absl::OkStatus();
    }
    request.set_page_token(page->next_page_token());
  }
  if (command.all) {
    std::printf("%llu actors on %s, %d pages, in %s\n",
                static_cast<unsigned long long>(actors), node.c_str(), pages,
                absl::FormatDuration(absl::Now() - start).c_str());
  }
  return absl::OkStatus();
}

absl::Status RunInspect(Client& client, const std::string& ref) {
  absl::StatusOr<v1::InspectReply> reply = client.Inspect(ref);
  if (!reply.ok()) {
    return reply.status();
  }
  const v1::ActorInfo& actor = reply->actor();
  std::printf("ref       troupe://%s/%s\n", reply->node().c_str(),
              actor.id().c_str());
  std::printf("uid       %llu\n", static_cast<unsigned long long>(actor.uid()));
  std::printf("kind      %s\n", actor.kind().c_str());
  std::printf("mailbox   %llu queued\n",
              static_cast<unsigned long long>(actor.mailbox_depth()));
  std::printf("handled   %llu messages\n",
              static_cast<unsigned long long>(actor.messages_handled()));
  std::printf("age       %.1fs\n", actor.age_seconds());
  std::printf("parent    %s\n", reply->parent().empty()
                                    ? "(top level)"
                                    : reply->parent().c_str());
  std::printf("watchers  %u\n", reply->watchers());
  std::printf(
      "children  %u%s\n", reply->children_count(),
      reply->children_count() > static_cast<uint32_t>(reply->children_size())
          ? absl::StrCat(" (first ", reply->children_size(), ")").c_str()
          : "");
  for (const std::string& child : reply->children()) {
    std::printf("  %s\n", child.c_str());
  }
  return absl::OkStatus();
}

}  // namespace troupe
