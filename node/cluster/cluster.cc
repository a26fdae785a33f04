#include "node/cluster/cluster.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/member_table.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/pid.h"
#include "proto/cluster.pb.h"
#include "proto/troupe.pb.h"

namespace troupe {
namespace {

v1::Pid ClusterPid(absl::string_view address, uint64_t incarnation) {
  v1::Pid pid;
  pid.set_address(std::string(address));
  pid.set_id(std::string(kClusterActorName));
  pid.set_incarnation(incarnation);
  return pid;
}

// Embedded membership (cluster.h). Its state is its own (one message at a
// time); the member list leaves it only as copies (MembersReply, events).
class ClusterActor final : public Actor {
 public:
  ClusterActor(ClusterOptions options, std::string leave_token)
      : options_(std::move(options)), leave_token_(std::move(leave_token)) {}

  absl::Status Started(ActorContext& ctx) override {
    table_ = std::make_unique<MemberTable>(
        ctx.Self().address(), ctx.Self().pid().incarnation, absl::Now());
    for (const std::string& seed : options_.seeds) {
      if (seed != ctx.Self().address()) {
        seeds_.insert(seed);
        table_->HeardOf(seed, absl::Now());
        Contact(ctx, seed);
      }
    }
    ctx.Tell(ctx.Self(), v1::ClusterRetry(),
             TellOptions{options_.gossip_interval, options_.gossip_interval});
    return absl::OkStatus();
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* view = As<v1::ClusterView>(message)) {
      OnContacted(ctx, *view);
    } else if (const auto* terminated = As<v1::Terminated>(message)) {
      OnTerminated(ctx, *terminated);
    } else if (const auto* retry = As<v1::ClusterRetry>(message)) {
      OnRetry(ctx, retry->address());
    } else if (const auto* leave = As<v1::ClusterLeave>(message)) {
      if (leave->cluster() == options_.name) {
        table_->Leaving(ctx.Sender().address(), ctx.Sender().pid().incarnation,
                        absl::Now());
      }
      ctx.Reply(v1::ClusterLeave());  // heard: the leaver may go on
    } else if (const auto* subscribe = As<v1::SubscribeMembers>(message)) {
      Subscribe(ctx, ctx.Ref(subscribe->subscriber()));
    } else if (const auto* unsubscribe = As<v1::UnsubscribeMembers>(message)) {
      ActorRef subscriber = ctx.Ref(unsubscribe->subscriber());
      if (subscribers_.erase(subscriber) > 0) {
        ctx.Unwatch(subscriber);
      }
    } else if (Is<v1::MembersRequest>(message)) {
      v1::MembersReply reply;
      reply.set_node(ctx.Self().address());
      reply.set_cluster(options_.name);
      for (v1::Member& member : table_->Snapshot()) {
        *reply.add_members() = std::move(member);
      }
      ctx.Reply(std::move(reply));
    } else if (const auto* leave_request = As<v1::LeaveCluster>(message)) {
      Leave(ctx, *leave_request);
    }
    // Anything else (a DeadLetter of a leave to a member already gone) is
    // of no use here.
    return absl::OkStatus();
  }

 private:
  struct Contacts {
    bool in_flight = false;      // an ask is out
    bool retry_pending = false;  // a ClusterRetry timer is set
    int failures = 0;            // in a row
  };

  v1::ClusterView View() const {
    v1::ClusterView view;
    view.set_cluster(options_.name);
    for (v1::Member& member : table_->Up()) {
      *view.add_members() = std::move(member);
    }
    return view;
  }

  // Asks `address`'s cluster actor with this node's view; the answer is
  // its view (OnAnswer). One ask per address at a time.
  void Contact(ActorContext& ctx, const std::string& address) {
    Contacts& contacts = contacts_[address];
    if (contacts.in_flight) {
      return;
    }
    contacts.in_flight = true;
    ctx.Ask(
        ClusterPid(address, 0), View(), options_.contact_timeout,
        [this, address](ActorContext& ctx, absl::StatusOr<MessagePtr> answer) {
          OnAnswer(ctx, address, std::move(answer));
        });
  }

  // A member is UP here only once it has answered this node's own contact:
  // then this node's link to it works (a watch through it is placed, a
  // reply reaches it), whichever node made contact first.
  void OnAnswer(ActorContext& ctx, const std::string& address,
                absl::StatusOr<MessagePtr> answer) {
    Contacts& contacts = contacts_[address];
    contacts.in_flight = false;
    const v1::ClusterView* view =
        answer.ok() ? As<v1::ClusterView>(**answer) : nullptr;
    if (view == nullptr || view->members().empty()) {
      ++contacts.failures;
      table_->NoteFailure(address, answer.ok()
                                       ? "its answer was not a cluster view"
                                       : answer.status().message());
      RetryLater(ctx, address,
                 answer.ok() ? absl::InvalidArgumentError("not a cluster view")
                             : answer.status());
      return;
    }
    if (view->cluster() != options_.name) {
      // At max_backoff from now on (and logged once).
      contacts.failures = std::max(contacts.failures + 1, 1 << 20);
      const std::string why =
          absl::StrCat("it is in cluster '", view->cluster(),
                       "', this node in '", options_.name, "' (--cluster)");
      table_->NoteFailure(address, why);
      RetryLater(ctx, address, absl::FailedPreconditionError(why));
      return;
    }
    contacts.failures = 0;
    const v1::Member& answerer = view->members(0);
    if (answerer.address() != address) {
      // `address` is another spelling of a member (or of this node): the
      // member is known by the address it advertises, a seed too.
      table_->Remove(address);
      contacts_.erase(address);
      if (seeds_.erase(address) > 0 &&
          answerer.address() != table_->self_address()) {
        seeds_.insert(answerer.address());
      }
    }
    if (answerer.address().empty() || answerer.incarnation() == 0 ||
        answerer.address() == table_->self_address() ||
        answerer.state() == v1::MEMBER_LEAVING) {
      return;
    }
    const std::vector<MemberEvent> events = table_->HeardFrom(
        answerer.address(), answerer.incarnation(), absl::Now());
    Publish(ctx, events);
    if (watched_.insert({answerer.address(), answerer.incarnation()}).second) {
      ctx.Watch(ClusterPid(answerer.address(), answerer.incarnation()));
    }
    if (!events.empty()) {
      // The members this node has UP that the new one does not know hear
      // of it now: one push each per new member, whatever the order in
      // which members joined (of two that become UP here, the second's news
      // reaches the first).
      absl::flat_hash_set<std::string> known;
      for (const v1::Member& member : view->members()) {
        known.insert(member.address());
      }
      for (const v1::Member& member : table_->Up()) {
        if (member.address() != table_->self_address() &&
            !known.contains(member.address())) {
          Contact(ctx, member.address());
        }
      }
    }
    LearnOf(ctx, *view);
  }

  // Another node contacted this one: answer with this node's view (also
  // to a node of another cluster, which then sees the name differs), and
  // contact it back unless it is UP here already.
  void OnContacted(ActorContext& ctx, const v1::ClusterView& view) {
    ctx.Reply(View());
    if (view.cluster() != options_.name || view.members().empty()) {
      return;
    }
    const v1::Member& sender = view.members(0);
    const v1::Member* known = table_->Find(sender.address());
    if (IsNodeAddress(sender.address()) &&
        sender.address() != table_->self_address() &&
        sender.state() != v1::MEMBER_LEAVING &&
        (known == nullptr || known->state() != v1::MEMBER_UP ||
         known->incarnation() != sender.incarnation())) {
      table_->HeardOf(sender.address(), absl::Now());
      contacts_[sender.address()].failures = 0;  // it is there
      Contact(ctx, sender.address());
    }
    LearnOf(ctx, view);
  }

  // The members `view` lists after its sender that are not UP here are
  // contacted.
  void LearnOf(ActorContext& ctx, const v1::ClusterView& view) {
    for (int i = 1; i < view.members_size(); ++i) {
      const std::string& address = view.members(i).address();
      if (address != table_->self_address() && IsNodeAddress(address) &&
          !table_->IsUp(address)) {
        table_->HeardOf(address, absl::Now());
        Contact(ctx, address);
      }
    }
  }

  void OnTerminated(ActorContext& ctx, const v1::Terminated& terminated) {
    ActorRef ref = ctx.Ref(terminated.ref());
    if (subscribers_.erase(ref) > 0) {
      return;
    }
    const std::string& address = terminated.ref().address();
    const uint64_t incarnation = terminated.ref().incarnation();
    if (watched_.erase({address, incarnation}) == 0) {
      return;
    }
    const char* reason = terminated.reason() == v1::NODE_DOWN
                             ? "its node was declared down (link failure "
                               "detector)"
                             : "its cluster actor ended";
    Publish(ctx, table_->Down(address, incarnation, reason, absl::Now()));
    Contact(ctx, address);  // a restarted node, a healed link
  }

  // One retry timer per address at a time.
  void RetryLater(ActorContext& ctx, const std::string& address,
                  const absl::Status& why) {
    Contacts& contacts = contacts_[address];
    if (contacts.retry_pending) {
      return;
    }
    contacts.retry_pending = true;
    absl::Duration delay = options_.min_backoff;
    for (int i = 1; i < contacts.failures && delay < options_.max_backoff;
         ++i) {
      delay *= 2;
    }
    delay = std::min(delay, options_.max_backoff);
    // The 1st, 2nd, 4th, 8th... failure in a row: a node that stays away
    // costs a few lines, not one per retry.
    if ((contacts.failures & (contacts.failures - 1)) == 0) {
      log_.Log(
          LogSeverity::kWarning,
          absl::StrCat("cluster: ", address, " did not answer (", why.message(),
                       "); trying again in ", absl::FormatDuration(delay)));
    }
    v1::ClusterRetry retry;
    retry.set_address(address);
    ctx.Tell(ctx.Self(), std::move(retry), TellOptions{delay});
  }

  // A retry of `address`, or ("") the gossip tick: views are exchanged
  // with one UP member picked at random, which mends any news a push
  // missed, and long-gone members are forgotten.
  void OnRetry(ActorContext& ctx, const std::string& address) {
    if (address.empty()) {
      for (const std::string& forgotten :
           table_->Forget(absl::Now(), options_.forget_after, seeds_)) {
        contacts_.erase(forgotten);
      }
      const std::vector<v1::Member> up = table_->Up();
      if (up.size() > 1) {
        Contact(ctx,
                up[absl::Uniform<size_t>(random_, 1, up.size())].address());
      }
      return;
    }
    if (auto it = contacts_.find(address); it != contacts_.end()) {
      it->second.retry_pending = false;
    }
    if (table_->Find(address) != nullptr && !table_->IsUp(address)) {
      Contact(ctx, address);
    }
  }

  // A subscriber that subscribes again (restarted, say) gets the current
  // members again.
  void Subscribe(ActorContext& ctx, const ActorRef& subscriber) {
    if (subscribers_.insert(subscriber).second) {
      ctx.Watch(subscriber);
    }
    v1::CurrentMembers current;
    current.set_cluster(options_.name);
    for (v1::Member& member : table_->Snapshot()) {
      *current.add_members() = std::move(member);
    }
    ctx.Tell(subscriber, std::move(current));
  }

  void Publish(ActorContext& ctx, const std::vector<MemberEvent>& events) {
    for (const MemberEvent& event : events) {
      Log(LogSeverity::kInfo,
          absl::StrCat(
              "cluster: member ", event.member.address(), " ",
              event.up ? "up" : "down",
              event.up ? "" : absl::StrCat(" (", event.member.reason(), ")")));
      for (const ActorRef& subscriber : subscribers_) {
        if (event.up) {
          v1::MemberUp up;
          *up.mutable_member() = event.member;
          ctx.Tell(subscriber, std::move(up));
        } else {
          v1::MemberDown down;
          *down.mutable_member() = event.member;
          ctx.Tell(subscriber, std::move(down));
        }
      }
    }
  }

  // This node leaves (LocalCluster::Leave, which holds the token): it
  // answers once every UP member has heard it (or the asker's timeout
  // passed), so they know it is LEAVING before its links end (a leave on
  // one link may otherwise overtake the other).
  void Leave(ActorContext& ctx, const v1::LeaveCluster& request) {
    if (request.token() != leave_token_) {
      return;  // only the node itself decides that it leaves
    }
    table_->LeaveSelf(absl::Now());
    leave_askers_.push_back(ctx.Sender());
    v1::ClusterLeave leave;
    leave.set_cluster(options_.name);
    const absl::Duration timeout = absl::Milliseconds(request.timeout_ms());
    const std::vector<v1::Member> up = table_->Up();
    for (size_t i = 1; i < up.size(); ++i) {
      ++leave_unheard_;
      ctx.Ask(ClusterPid(up[i].address(), up[i].incarnation()), leave, timeout,
              [this](ActorContext& ctx, absl::StatusOr<MessagePtr>) {
                --leave_unheard_;
                LeaveHeard(ctx);
              });
    }
    LeaveHeard(ctx);
  }

  void LeaveHeard(ActorContext& ctx) {
    if (leave_unheard_ > 0) {
      return;
    }
    for (const ActorRef& asker : leave_askers_) {
      ctx.Tell(asker, v1::LeaveCluster());
    }
    leave_askers_.clear();
  }

  const ClusterOptions options_;
  const std::string leave_token_;
  std::unique_ptr<MemberTable> table_;
  absl::flat_hash_set<std::string> seeds_;
  absl::flat_hash_map<std::string, Contacts> contacts_;
  // The member runs whose cluster actor this one watches.
  absl::flat_hash_set<std::pair<std::string, uint64_t>> watched_;
  absl::flat_hash_set<ActorRef> subscribers_;
  // Leaving: who asked, and the members that have not yet said they heard.
  std::vector<ActorRef> leave_askers_;
  int leave_unheard_ = 0;
  LogLimiter log_{5, absl::Seconds(10)};
  absl::BitGen random_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<LocalCluster>> StartCluster(
    ActorSystem& system, ClusterOptions options) {
  if (options.name.empty()) {
    return absl::InvalidArgumentError("the cluster name (--cluster) is empty");
  }
  for (const std::string& seed : options.seeds) {
    if (!IsNodeAddress(seed)) {
      return absl::InvalidArgumentError(
          absl::StrCat("seed '", seed, "' is not host:port"));
    }
  }
  absl::BitGen random;
  std::string token = absl::StrCat(absl::Hex(absl::Uniform<uint64_t>(random)),
                                   absl::Hex(absl::Uniform<uint64_t>(random)));
  absl::StatusOr<ActorRef> actor = system.Spawn(
      [options = std::move(options), token] {
        return std::make_unique<ClusterActor>(options, token);
      },
      kClusterActorName);
  if (!actor.ok()) {
    return actor.status();
  }
  return std::unique_ptr<LocalCluster>(
      new LocalCluster(system, *std::move(actor), std::move(token)));
}

void LocalCluster::Leave(absl::Duration timeout) {
  v1::LeaveCluster request;
  request.set_token(token_);
  request.set_timeout_ms(absl::ToInt64Milliseconds(timeout));
  (void)system_.Ask(actor_, std::move(request), timeout).get();
}

ActorRef ClusterActorOf(ActorSystem& system, absl::string_view node) {
  return system.Ref(ClusterPid(node.empty() ? system.address() : node, 0));
}

}  // namespace troupe
