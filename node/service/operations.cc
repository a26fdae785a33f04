#include "node/service/operations.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/runtime/activator_protocol.h"
#include "node/runtime/pid.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

void ToProto(const ActorSnapshot& actor, v1::ActorInfo* info) {
  info->set_id(actor.id);
  info->set_uid(actor.uid);
  info->set_kind(actor.kind);
  info->set_mailbox_depth(actor.mailbox_depth);
  info->set_messages_handled(actor.handled);
  info->set_age_seconds(absl::ToDoubleSeconds(actor.age));
}

// Answers other nodes' ListActorsRequest and InspectRequest with their
// replies, or an AskFailure.
class OperationsActor final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (!ctx.Sender()) {
      return absl::OkStatus();  // nobody to answer
    }
    if (const auto* list = As<v1::ListActorsRequest>(message)) {
      Answer(ctx, ListActorsHere(ctx.System(), *list));
    } else if (const auto* inspect = As<v1::InspectRequest>(message)) {
      absl::StatusOr<Pid> pid = ParsePid(inspect->ref());
      Answer(ctx, pid.ok() ? InspectHere(ctx.System(), pid->id)
                           : absl::StatusOr<v1::InspectReply>(pid.status()));
    } else {
      ctx.Reply(FailureOf(absl::InvalidArgumentError(
          absl::StrCat(kOperationsName,
                       " takes a ListActorsRequest or an InspectRequest, "
                       "not a ",
                       TypeName(message)))));
    }
    return absl::OkStatus();
  }

 private:
  template <typename Reply>
  static void Answer(ActorContext& ctx, absl::StatusOr<Reply> reply) {
    if (reply.ok()) {
      ctx.Reply(*std::move(reply));
    } else {
      ctx.Reply(FailureOf(reply.status()));
    }
  }
};

// Runs `request` here when `node` is this one, else asks `node`'s
// operations actor.
template <typename Reply, typename Request, typename Here>
void RunOn(ActorSystem& system, const std::string& node, const Request& request,
           absl::Duration timeout, Here here, OperationsCallback<Reply> done) {
  if (node.empty() || node == system.address()) {
    done(here());
    return;
  }
  if (!IsNodeAddress(node)) {
    done(absl::InvalidArgumentError(
        absl::StrCat("node '", node, "' is not host:port")));
    return;
  }
  system.AskAsync(
      system.Resolve(Pid{node, std::string(kOperationsName), 0, 0}),
      MakeEnvelope(request, ActorRef()), timeout,
      [node, done = std::move(done)](absl::StatusOr<MessagePtr> reply) {
        absl::StatusOr<MessagePtr> answer =
            NodeActorReply(std::move(reply), node, kOperationsName);
        if (!answer.ok()) {
          done(answer.status());
        } else if (const auto* typed = As<Reply>(**answer)) {
          done(*typed);
        } else {
          done(absl::InternalError(absl::StrCat(
              "node ", node, " answered with a ", TypeName(**answer))));
        }
      });
}

}  // namespace

absl::StatusOr<v1::ListActorsReply> ListActorsHere(
    const ActorSystem& system, const v1::ListActorsRequest& request) {
  if (request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size ", request.page_size(), " is over ",
                     kMaxPageSize, " actors"));
  }
  const uint32_t page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  absl::StatusOr<ActorPage> page =
      system.ListActors(request.kind(), page_size, request.page_token());
  if (!page.ok()) {
    return page.status();
  }
  v1::ListActorsReply reply;
  reply.set_node(system.address());
  for (const ActorSnapshot& actor : page->actors) {
    ToProto(actor, reply.add_actors());
  }
  reply.set_next_page_token(std::move(page->next_page_token));
  return reply;
}

absl::StatusOr<v1::InspectReply> InspectHere(const ActorSystem& system,
                                             absl::string_view id) {
  absl::StatusOr<ActorDetail> detail = system.Inspect(id);
  if (!detail.ok()) {
    return detail.status();
  }
  v1::InspectReply reply;
  ToProto(detail->actor, reply.mutable_actor());
  reply.set_node(system.address());
  reply.set_parent(detail->parent);
  reply.set_watchers(detail->watchers);
  for (std::string& child : detail->children) {
    reply.add_children(std::move(child));
  }
  reply.set_children_count(static_cast<uint32_t>(detail->children_count));
  return reply;
}

absl::Status StartOperations(ActorSystem& system) {
  return system
      .Spawn([] { return std::make_unique<OperationsActor>(); },
             kOperationsName, SpawnOptions{0, "troupe.operations"})
      .status();
}

void ListActorsOn(ActorSystem& system, const v1::ListActorsRequest& request,
                  absl::Duration timeout,
                  OperationsCallback<v1::ListActorsReply> done) {
  RunOn<v1::ListActorsReply>(
      system, request.node(), request, timeout,
      [&] { return ListActorsHere(system, request); }, std::move(done));
}

void InspectOn(ActorSystem& system, const v1::InspectRequest& request,
               absl::Duration timeout,
               OperationsCallback<v1::InspectReply> done) {
  if (!absl::StrContains(request.ref(), "://")) {  // an id alone
    done(InspectHere(system, request.ref()));
    return;
  }
  absl::StatusOr<Pid> pid = ParsePid(request.ref());
  if (!pid.ok()) {
    done(pid.status());
    return;
  }
  RunOn<v1::InspectReply>(
      system, pid->address, request, timeout,
      [&] { return InspectHere(system, pid->id); }, std::move(done));
}

}  // namespace troupe
