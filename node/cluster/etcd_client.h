// EtcdClient: the part of etcd's v3 API that troupe's cluster uses (leases,
// keys under a prefix, create-if-absent transactions, watches), over the
// gRPC API that Debian's etcd-server 3.4 serves, with stubs generated at
// build time from the .proto files of golang-etcd-server-dev (//proto/etcd;
// etcd has no C++ client in Debian). Plain gRPC to one member's client URL
// (the `--listen-client-urls` of `etcd`, as host:port).
//
// Every call is synchronous and bounded by the client's timeout; errors are
// gRPC's status as absl::Status (UNAVAILABLE: etcd unreachable;
// DEADLINE_EXCEEDED: no answer in time; NOT_FOUND: a lease that expired or
// was never granted). Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "etcd/etcdserver/etcdserverpb/rpc.grpc.pb.h"

namespace troupe {

struct EtcdKeyValue {
  std::string key;
  std::string value;
  int64_t lease = 0;            // 0: none
  int64_t create_revision = 0;  // the store revision that created the key
  int64_t mod_revision = 0;     // ... and that last changed it
};

class EtcdClient {
 public:
  // `endpoint`: host:port of an etcd member's client URL. Connects lazily.
  explicit EtcdClient(const std::string& endpoint,
                      absl::Duration timeout = absl::Seconds(2));

  const std::string& endpoint() const { return endpoint_; }

  // A new lease that expires `ttl` after its last keep-alive (etcd raises
  // a TTL below its minimum, about 2 s by default); its id.
  absl::StatusOr<int64_t> GrantLease(absl::Duration ttl);
  // Renews `lease` once; the TTL it now has. NOT_FOUND once it expired.
  absl::StatusOr<absl::Duration> KeepAlive(int64_t lease);
  // Ends `lease` now: its keys are deleted.
  absl::Status RevokeLease(int64_t lease);

  // Sets `key` to `value`, bound to `lease` (0: none).
  absl::Status Put(const std::string& key, const std::string& value,
                   int64_t lease = 0);
  // Sets `key` only if no such key exists (one transaction: its
  // create_revision is 0); true if it did. When it exists, `*current` (if
  // given) gets it.
  absl::StatusOr<bool> CreateIfAbsent(const std::string& key,
                                      const std::string& value, int64_t lease,
                                      EtcdKeyValue* current = nullptr);
  // Deletes `key` if its value is still `value` (one transaction); true if
  // it did.
  absl::StatusOr<bool> DeleteIfValue(const std::string& key,
                                     const std::string& value);
  // Every key under `prefix`, sorted, and the store's revision at that read
  // (watch from revision + 1 to miss nothing and see nothing twice).
  absl::StatusOr<std::vector<EtcdKeyValue>> Range(const std::string& prefix,
                                                  int64_t* revision);

  // `key` itself (no prefix), or nullopt when there is no such key.
  absl::StatusOr<std::optional<EtcdKeyValue>> Get(const std::string& key);

  etcdserverpb::Watch::Stub& watch_stub() { return *watch_; }
  absl::Duration timeout() const { return timeout_; }

 private:
  void Bound(grpc::ClientContext* context) const;
  // Keys from `key` to `range_end` ("": `key` only).
  absl::StatusOr<std::vector<EtcdKeyValue>> RangeOf(
      const std::string& key, const std::string& range_end, int64_t* revision);

  const std::string endpoint_;
  const absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<etcdserverpb::KV::Stub> kv_;
  std::unique_ptr<etcdserverpb::Lease::Stub> lease_;
  std::unique_ptr<etcdserverpb::Watch::Stub> watch_;
};

// EtcdWatch: the puts and deletes of keys under a prefix, from a revision
// on, in the store's order, each passed to `on_event` on the watch's own
// thread (`deleted` true for a delete, when `kv` has the key and revision
// only); `on_end` once, with why, when the watch ends by itself (etcd
// unreachable, the revision compacted). Destroying the watch stops it
// (without `on_end`) and waits for the callbacks to return: they must not
// destroy it.
class EtcdWatch {
 public:
  using OnEvent = std::function<void(bool deleted, const EtcdKeyValue& kv)>;
  using OnEnd = std::function<void(absl::Status why)>;

  EtcdWatch(EtcdClient& client, const std::string& prefix,
            int64_t start_revision, OnEvent on_event, OnEnd on_end);
  ~EtcdWatch();
  EtcdWatch(const EtcdWatch&) = delete;
  EtcdWatch& operator=(const EtcdWatch&) = delete;

 private:
  void Run(EtcdClient& client, std::string prefix, int64_t start_revision);

  OnEvent on_event_;
  OnEnd on_end_;
  grpc::ClientContext context_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// The end of the key range that holds every key starting with `prefix`
// (etcd's range_end: the prefix with its last byte plus one).
std::string EtcdPrefixEnd(const std::string& prefix);

}  // namespace troupe
