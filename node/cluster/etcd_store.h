// EtcdStore: a node's keys on etcd other than its registration (README,
// "Membership on etcd"): identity claims (/troupe/<cluster>/identities/
// <kind:key>) and cluster-wide names (/troupe/<cluster>/names/<name>),
// each bound to the node's current lease, so none outlives the node's
// registration. Its calls run in order on one thread of its own, so
// neither the cluster actor nor a sender ever waits on etcd; each is
// bounded by the client's timeout.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "node/cluster/cluster.h"
#include "node/cluster/etcd_client.h"
#include "node/cluster/identity_directory.h"
#include "proto/cluster.pb.h"

namespace troupe {

class EtcdStore : public std::enable_shared_from_this<EtcdStore> {
 public:
  // A task: a call (or a few) to etcd, given the lease held when it runs
  // (0: none now; a task then reports UNAVAILABLE).
  using Task = std::function<void(EtcdClient& client, int64_t lease)>;

  // `self_address` and `self_incarnation`: this node's run.
  EtcdStore(const ClusterOptions& options, std::string self_address,
            uint64_t self_incarnation);
  // Close, then gone.
  ~EtcdStore();
  // Stops the thread after the task it runs; tasks not yet run, and later
  // ones, are dropped. Idempotent; not from a task.
  void Close();
  EtcdStore(const EtcdStore&) = delete;
  EtcdStore& operator=(const EtcdStore&) = delete;

  // The lease this node holds now (its session, on each grant; 0 once it is
  // lost). Thread-safe.
  void SetLease(int64_t lease) { lease_.store(lease); }
  // Queues `task`. Thread-safe.
  void Run(Task task);

  std::string IdentityKey(absl::string_view identity) const;
  std::string NameKey(absl::string_view name) const;
  const std::string& self_address() const { return self_address_; }
  // "address/incarnation": what this node's identity claims hold.
  const std::string& self_run() const { return self_run_; }
  int64_t lease() const { return lease_.load(); }

  // Claims for the identity directory: a claim creates the identity's key
  // (value: this node's run, self_run()) under the lease, or finds who
  // holds it.
  std::unique_ptr<IdentityClaims> NewClaims();

  // Cluster-wide names: a key per name, its value the ref, created only if
  // absent and bound to this node's lease, so it goes with the node.
  // `done` gets the NameReply on the store's thread: OK (also when the key
  // holds this very ref), ALREADY_EXISTS with the ref that has the name,
  // UNAVAILABLE without a lease or etcd. Thread-safe.
  using NameDone = std::function<void(v1::NameReply)>;
  void ClaimName(const v1::NameClaim& claim, NameDone done);
  // Deletes the name's key if it still names `release.ref`; `done` gets OK
  // or etcd's error.
  void ReleaseName(const v1::NameRelease& release, NameDone done);
  // Who has `name`: OK with the ref, or NOT_FOUND.
  void FindName(const std::string& name, NameDone done);

 private:
  // The queue, shared with the thread: if the store goes in a task (the
  // task held its last reference), the thread finds `stopping` in it and
  // ends without touching the store.
  struct Queue {
    absl::Mutex mu;
    std::deque<Task> tasks ABSL_GUARDED_BY(mu);
    bool stopping ABSL_GUARDED_BY(mu) = false;
  };
  void Loop(const std::shared_ptr<Queue>& queue);

  EtcdClient client_;
  const std::string prefix_;
  const std::string cluster_;
  const std::string self_address_;
  const std::string self_run_;
  std::atomic<int64_t> lease_{0};

  const std::shared_ptr<Queue> queue_ = std::make_shared<Queue>();
  std::thread thread_;  // last: starts once the rest is ready
};

}  // namespace troupe
