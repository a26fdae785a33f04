#include "node/cluster/etcd_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "node/cluster/cluster_wire.h"
#include "node/cluster/name_holder.h"
#include "node/runtime/system_messages.h"

namespace troupe {

EtcdStore::EtcdStore(const ClusterOptions& options, std::string self_address,
                     uint64_t self_incarnation)
    : client_(options.etcd,
              std::clamp(options.lease_ttl / 3, absl::Milliseconds(200),
                         absl::Seconds(2))),
      prefix_(absl::StrCat("/troupe/", options.name, "/")),
      cluster_(options.name),
      self_address_(std::move(self_address)),
      self_run_(absl::StrCat(self_address_, "/", absl::Hex(self_incarnation))),
      thread_([this, queue = queue_] { Loop(queue); }) {}

EtcdStore::~EtcdStore() {
  Close();
  if (thread_.joinable()) {
    thread_.detach();  // the last reference went in a task: it ends itself
  }
}

void EtcdStore::Close() {
  {
    absl::MutexLock lock(&queue_->mu);
    queue_->stopping = true;
  }
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
    thread_.join();
  }
}

void EtcdStore::Run(Task task) {
  absl::MutexLock lock(&queue_->mu);
  if (!queue_->stopping) {
    queue_->tasks.push_back(std::move(task));
  }
}

void EtcdStore::Loop(const std::shared_ptr<Queue>& queue) {
  for (;;) {
    Task task;
    {
      absl::MutexLock lock(&queue->mu);
      queue->mu.Await(absl::Condition(
          +[](Queue* q) ABSL_EXCLUSIVE_LOCKS_REQUIRED(q->mu) {
            return q->stopping || !q->tasks.empty();
          },
          queue.get()));
      if (queue->stopping) {
        return;  // the store may be gone: only `queue` is touched
      }
      task = std::move(queue->tasks.front());
      queue->tasks.pop_front();
    }
    task(client_, lease_.load());
  }
}

std::string EtcdStore::IdentityKey(absl::string_view identity) const {
  return absl::StrCat(prefix_, "identities/", identity);
}

std::string EtcdStore::NameKey(absl::string_view name) const {
  return absl::StrCat(prefix_, "names/", name);
}

namespace {

absl::Status NoLease() {
  return absl::UnavailableError(
      "this node holds no etcd lease now (etcd unreachable, or the lease "
      "lost: claims come back once it renews or registers again)");
}

class EtcdClaims final : public IdentityClaims {
 public:
  explicit EtcdClaims(std::shared_ptr<EtcdStore> store)
      : store_(std::move(store)) {}

  // The claim's value names this node's run ("address/incarnation"), so
  // a key written by an earlier run at the same address (whose lease may
  // still be renewed, by a process that is partitioned, not dead) is that
  // run's until its lease ends. With no lease (fenced, or not yet
  // registered), nothing is asked of etcd.
  void Claim(const std::string& identity, Done done) override {
    if (store_->lease() == 0) {
      done(NoLease(), "");
      return;
    }
    store_->Run([store = store_.get(), identity, done = std::move(done)](
                    EtcdClient& client, int64_t lease) {
      if (lease == 0) {
        done(NoLease(), "");
        return;
      }
      EtcdKeyValue current;
      absl::StatusOr<bool> created = client.CreateIfAbsent(
          store->IdentityKey(identity), store->self_run(), lease, &current);
      const std::string holder =
          current.value.substr(0, current.value.find('/'));
      if (!created.ok()) {
        done(created.status(), "");
      } else if (*created || current.value == store->self_run()) {
        done(absl::OkStatus(), "");
      } else if (holder == store->self_address()) {
        done(absl::UnavailableError(absl::StrCat(
                 "an earlier run of this node's address (", current.value,
                 ") holds it until its lease ends")),
             "");
      } else {
        done(absl::AlreadyExistsError("held by another member"), holder);
      }
    });
  }

  void Release(const std::string& identity) override {
    store_->Run([store = store_.get(), identity](EtcdClient& client,
                                                 int64_t /*lease*/) {
      (void)client.DeleteIfValue(store->IdentityKey(identity),
                                 store->self_run());
    });
  }

 private:
  const std::shared_ptr<EtcdStore> store_;
};

}  // namespace

std::unique_ptr<IdentityClaims> EtcdStore::NewClaims() {
  return std::make_unique<EtcdClaims>(shared_from_this());
}

void EtcdStore::ClaimName(const v1::NameClaim& claim, NameDone done) {
  Run([this, claim, done = std::move(done)](EtcdClient& client, int64_t lease) {
    if (lease == 0) {
      done(MakeNameReply(claim.name(),
                         absl::UnavailableError(absl::StrCat(
                             "this node holds no etcd lease now (etcd at ",
                             client.endpoint(), " unreachable?)"))));
      return;
    }
    const std::string value = claim.ref().SerializeAsString();
    EtcdKeyValue current;
    absl::StatusOr<bool> created =
        client.CreateIfAbsent(NameKey(claim.name()), value, lease, &current);
    if (!created.ok()) {
      done(MakeNameReply(claim.name(), created.status()));
      return;
    }
    if (*created || current.value == value) {
      done(MakeNameReply(claim.name(), absl::OkStatus(), &claim.ref()));
      return;
    }
    v1::Pid holder;
    holder.ParseFromString(current.value);
    done(MakeNameReply(
        claim.name(), absl::AlreadyExistsError(NameTaken(claim.name(), holder)),
        &holder));
  });
}

void EtcdStore::ReleaseName(const v1::NameRelease& release, NameDone done) {
  Run([this, release, done = std::move(done)](EtcdClient& client,
                                              int64_t /*lease*/) {
    done(MakeNameReply(release.name(),
                       client
                           .DeleteIfValue(NameKey(release.name()),
                                          release.ref().SerializeAsString())
                           .status()));
  });
}

void EtcdStore::FindName(const std::string& name, NameDone done) {
  Run([this, name, done = std::move(done)](EtcdClient& client,
                                           int64_t /*lease*/) {
    absl::StatusOr<std::optional<EtcdKeyValue>> found =
        client.Get(NameKey(name));
    v1::Pid ref;
    if (!found.ok()) {
      done(MakeNameReply(name, found.status()));
    } else if (!found->has_value() || !ref.ParseFromString((*found)->value)) {
      done(MakeNameReply(name, absl::NotFoundError(absl::StrCat(
                                   "no actor is registered as '", name,
                                   "' in cluster '", cluster_, "'"))));
    } else {
      done(MakeNameReply(name, absl::OkStatus(), &ref));
    }
  });
}

}  // namespace troupe
