#include "node/cluster/embedded_membership.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "node/cluster/membership_actor.h"
#include "node/cluster/name_holder.h"
#include "node/cluster/rendezvous.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/pid.h"
#include "proto/cluster.pb.h"

namespace troupe {
namespace {

class EmbeddedMembership final : public MembershipActor {
 public:
  EmbeddedMembership(ClusterOptions options, std::string leave_token,
                     std::shared_ptr<IdentityDirectory> directory)
      : MembershipActor(std::move(options), std::move(leave_token),
                        std::move(directory)) {}

 private:
  void StartProvider(ActorContext& ctx) override {
    names_held_ = std::make_unique<NameHolder>(table(), options().name);
    for (const std::string& seed : options().seeds) {
      if (seed != ctx.Self().address()) {
        seeds_.insert(seed);
        table().HeardOf(seed, absl::Now());
        Contact(ctx, seed);
      }
    }
    ctx.Tell(ctx.Self(), v1::ClusterRetry(),
             TellOptions{options().gossip_interval, options().gossip_interval});
  }

  void ReceiveProvider(ActorContext& ctx, const Message& message) override {
    if (const auto* view = As<v1::ClusterView>(message)) {
      OnContacted(ctx, *view);
    } else if (const auto* retry = As<v1::ClusterRetry>(message)) {
      OnRetry(ctx, retry->address());
    } else if (const auto* leave = As<v1::ClusterLeave>(message)) {
      if (leave->cluster() == options().name) {
        table().Leaving(ctx.Sender().address(), ctx.Sender().pid().incarnation,
                        absl::Now());
      }
      ctx.Reply(v1::ClusterLeave());  // heard: the leaver may go on
    } else if (Is<v1::NameClaim>(message) || Is<v1::NameRelease>(message) ||
               Is<v1::NameLookup>(message)) {
      OnHolderRequest(ctx, message);
    }
    // Anything else (a DeadLetter of a leave to a member already gone) is
    // of no use here.
  }

  // Every UP member hears that this node leaves, so it is LEAVING there
  // before this node's links end (a leave on one link may otherwise
  // overtake the other).
  void LeaveMembers(ActorContext& ctx, absl::Duration timeout) override {
    v1::ClusterLeave leave;
    leave.set_cluster(options().name);
    const std::vector<v1::Member> up = table().Up();
    for (size_t i = 1; i < up.size(); ++i) {
      ++leave_unheard_;
      ctx.Ask(ClusterPid(up[i].address(), up[i].incarnation()), leave, timeout,
              [this](ActorContext& ctx, absl::StatusOr<MessagePtr>) {
                if (--leave_unheard_ == 0) {
                  LeaveDone(ctx);
                }
              });
    }
    if (leave_unheard_ == 0) {
      LeaveDone(ctx);
    }
  }

  struct Contacts {
    bool in_flight = false;      // an ask is out
    bool retry_pending = false;  // a ClusterRetry timer is set
    int failures = 0;            // in a row
  };

  v1::ClusterView View() const {
    v1::ClusterView view;
    view.set_cluster(options().name);
    for (v1::Member& member : table().Up()) {
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
        ClusterPid(address, 0), View(), options().contact_timeout,
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
      table().NoteFailure(address, answer.ok()
                                       ? "its answer was not a cluster view"
                                       : answer.status().message());
      RetryLater(ctx, address,
                 answer.ok() ? absl::InvalidArgumentError("not a cluster view")
                             : answer.status());
      return;
    }
    if (view->cluster() != options().name) {
      // At max_backoff from now on (and logged once).
      contacts.failures = std::max(contacts.failures + 1, 1 << 20);
      const std::string why =
          absl::StrCat("it is in cluster '", view->cluster(),
                       "', this node in '", options().name, "' (--cluster)");
      table().NoteFailure(address, why);
      RetryLater(ctx, address, absl::FailedPreconditionError(why));
      return;
    }
    contacts.failures = 0;
    const v1::Member& answerer = view->members(0);
    if (answerer.address() != address) {
      // `address` is another spelling of a member (or of this node): the
      // member is known by the address it advertises, a seed too.
      table().Remove(address);
      contacts_.erase(address);
      if (seeds_.erase(address) > 0 &&
          answerer.address() != table().self_address()) {
        seeds_.insert(answerer.address());
      }
    }
    if (answerer.address().empty() || answerer.incarnation() == 0 ||
        answerer.address() == table().self_address() ||
        answerer.state() == v1::MEMBER_LEAVING) {
      return;
    }
    const std::vector<MemberEvent> events = table().HeardFrom(
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
      for (const v1::Member& member : table().Up()) {
        if (member.address() != table().self_address() &&
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
    if (view.cluster() != options().name || view.members().empty()) {
      return;
    }
    const v1::Member& sender = view.members(0);
    const v1::Member* known = table().Find(sender.address());
    if (IsNodeAddress(sender.address()) &&
        sender.address() != table().self_address() &&
        sender.state() != v1::MEMBER_LEAVING &&
        (known == nullptr || known->state() != v1::MEMBER_UP ||
         known->incarnation() != sender.incarnation())) {
      table().HeardOf(sender.address(), absl::Now());
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
      if (address != table().self_address() && IsNodeAddress(address) &&
          !table().IsUp(address)) {
        table().HeardOf(address, absl::Now());
        Contact(ctx, address);
      }
    }
  }

  // A member's cluster actor, watched since it answered, ended.
  void OnWatchEnded(ActorContext& ctx,
                    const v1::Terminated& terminated) override {
    const std::string& address = terminated.ref().address();
    const uint64_t incarnation = terminated.ref().incarnation();
    if (watched_.erase({address, incarnation}) == 0) {
      return;
    }
    const char* reason = terminated.reason() == v1::NODE_DOWN
                             ? "its node was declared down (link failure "
                               "detector)"
                             : "its cluster actor ended";
    Publish(ctx, table().Down(address, incarnation, reason, absl::Now()));
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
    absl::Duration delay = options().min_backoff;
    for (int i = 1; i < contacts.failures && delay < options().max_backoff;
         ++i) {
      delay *= 2;
    }
    delay = std::min(delay, options().max_backoff);
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
           table().Forget(absl::Now(), options().forget_after, seeds_)) {
        contacts_.erase(forgotten);
      }
      const std::vector<v1::Member> up = table().Up();
      if (up.size() > 1) {
        Contact(ctx,
                up[absl::Uniform<size_t>(random_, 1, up.size())].address());
      }
      ClaimNamesAgain(ctx, /*all=*/true);
      return;
    }
    if (auto it = contacts_.find(address); it != contacts_.end()) {
      it->second.retry_pending = false;
    }
    if (table().Find(address) != nullptr && !table().IsUp(address)) {
      Contact(ctx, address);
    }
  }

  // --- Cluster-wide names, embedded: a name is held by the member it
  // hashes to among the UP members (its NameHolder); registrants claim it
  // there again when that member changes, and every gossip tick (a claim
  // is idempotent: a lost one, or one refused while the holder did not yet
  // have the registrant UP, is mended within gossip_interval). ---

  std::string HolderOf(const std::string& name) const {
    return RendezvousOwner(up_addresses(), absl::StrCat("name:", name));
  }

  // Asks `holder`'s cluster actor `request`; `then` gets its NameReply, or
  // UNAVAILABLE saying the holder did not answer.
  template <typename Request, typename Then>
  void AskHolder(ActorContext& ctx, const std::string& holder,
                 const Request& request, Then then) {
    ctx.Ask(ClusterPid(holder, 0), request, options().contact_timeout,
            [name = request.name(), holder, then = std::move(then)](
                ActorContext& ctx, absl::StatusOr<MessagePtr> reply) {
              const auto* result =
                  reply.ok() ? As<v1::NameReply>(**reply) : nullptr;
              then(ctx, result != nullptr
                            ? *result
                            : MakeNameReply(
                                  name, absl::UnavailableError(absl::StrCat(
                                            "the member holding it (", holder,
                                            ") did not answer: ",
                                            reply.status().message()))));
            });
  }

  void ClaimName(ActorContext& ctx, const v1::NameClaim& claim,
                 ActorRef reply_to) override {
    const std::string holder = HolderOf(claim.name());
    claimed_at_[claim.name()] = holder;
    if (holder == table().self_address()) {
      NameClaimed(ctx, names_held_->Hold(claim), reply_to);
      return;
    }
    AskHolder(ctx, holder, claim,
              [this, reply_to = std::move(reply_to)](
                  ActorContext& ctx, const v1::NameReply& result) {
                NameClaimed(ctx, result, reply_to);
              });
  }

  // To the member it was claimed at (which the registrant knows holds it).
  void ReleaseName(ActorContext& ctx, const v1::NameRelease& release,
                   ActorRef reply_to) override {
    auto at = claimed_at_.find(release.name());
    const std::string holder =
        at != claimed_at_.end() ? at->second : HolderOf(release.name());
    if (at != claimed_at_.end()) {
      claimed_at_.erase(at);
    }
    if (holder == table().self_address()) {
      names_held_->Release(release);
      if (reply_to) {
        ctx.Tell(reply_to, MakeNameReply(release.name(), absl::OkStatus()));
      }
      return;
    }
    AskHolder(ctx, holder, release,
              [reply_to = std::move(reply_to)](ActorContext& ctx,
                                               const v1::NameReply& result) {
                if (reply_to) {
                  ctx.Tell(reply_to, result);
                }
              });
  }

  // Asked of the holder only, which answers from what it holds.
  void FindName(ActorContext& ctx, const std::string& name,
                ActorRef reply_to) override {
    const std::string holder = HolderOf(name);
    if (holder == table().self_address()) {
      ctx.Tell(reply_to, names_held_->Find(name));
      return;
    }
    v1::NameLookup lookup;
    lookup.set_name(name);
    AskHolder(ctx, holder, lookup,
              [reply_to = std::move(reply_to)](ActorContext& ctx,
                                               const v1::NameReply& result) {
                ctx.Tell(reply_to, result);
              });
  }

  // The holder side, asked by other members' cluster actors (anyone with
  // the cluster's credential could ask too: README, "Threat model").
  void OnHolderRequest(ActorContext& ctx, const Message& message) {
    if (const auto* claim = As<v1::NameClaim>(message)) {
      ctx.Reply(names_held_->Hold(*claim));
    } else if (const auto* release = As<v1::NameRelease>(message)) {
      names_held_->Release(*release);
      ctx.Reply(MakeNameReply(release->name(), absl::OkStatus()));
    } else if (const auto* lookup = As<v1::NameLookup>(message)) {
      ctx.Reply(names_held_->Find(lookup->name()));
    }
  }

  void MembersChanged(ActorContext& ctx) override {
    names_held_->Prune([this](const std::string& name) {
      return HolderOf(name) == table().self_address();
    });
    ClaimNamesAgain(ctx, /*all=*/false);
  }

  // This node's names, at their holders: those whose holder changed, or
  // (`all`, each gossip tick) every one.
  void ClaimNamesAgain(ActorContext& ctx, bool all) {
    absl::erase_if(claimed_at_, [this](const auto& entry) {
      return !names().contains(entry.first);
    });
    for (const auto& [name, pid] : names()) {
      auto at = claimed_at_.find(name);
      if (all || at == claimed_at_.end() || at->second != HolderOf(name)) {
        v1::NameClaim claim;
        claim.set_name(name);
        *claim.mutable_ref() = pid;
        ClaimName(ctx, claim, ActorRef());
      }
    }
  }

  std::unique_ptr<NameHolder> names_held_;
  // Where each of this node's names was last claimed.
  absl::flat_hash_map<std::string, std::string> claimed_at_;

  absl::flat_hash_set<std::string> seeds_;
  absl::flat_hash_map<std::string, Contacts> contacts_;
  // The member runs whose cluster actor this one watches.
  absl::flat_hash_set<std::pair<std::string, uint64_t>> watched_;
  int leave_unheard_ = 0;
  LogLimiter log_{"cluster", 5, absl::Seconds(10)};
  absl::BitGen random_;
};

}  // namespace

std::unique_ptr<Actor> NewEmbeddedMembership(
    ClusterOptions options, std::string leave_token,
    std::shared_ptr<IdentityDirectory> directory) {
  return std::make_unique<EmbeddedMembership>(
      std::move(options), std::move(leave_token), std::move(directory));
}

}  // namespace troupe
