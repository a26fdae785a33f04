// EtcdClient and EtcdWatch against a real etcd (Debian's etcd-server 3.4,
// started by the test on free loopback ports): leases bind keys and take
// them when they expire or are revoked, create-if-absent lets one writer
// in, a watch sees puts and deletes in order from a revision, and an etcd
// that is gone is UNAVAILABLE, not a hang. Waits are on watch events, with
// a timeout.
#include "node/cluster/etcd_client.h"

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "tests/testing/etcd_server.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

// The events a watch delivered, waited for one at a time.
class Events {
 public:
  void Add(bool deleted, const EtcdKeyValue& kv) {
    absl::MutexLock lock(&mu_);
    events_.push_back({deleted, kv});
  }
  // The next event; false after `timeout`.
  bool Next(bool* deleted, EtcdKeyValue* kv, absl::Duration timeout = kWait) {
    absl::MutexLock lock(&mu_);
    if (!mu_.AwaitWithTimeout(
            absl::Condition(
                +[](std::deque<Event>* events) { return !events->empty(); },
                &events_),
            timeout)) {
      return false;
    }
    *deleted = events_.front().deleted;
    *kv = events_.front().kv;
    events_.pop_front();
    return true;
  }

 private:
  struct Event {
    bool deleted;
    EtcdKeyValue kv;
  };
  absl::Mutex mu_;
  std::deque<Event> events_ ABSL_GUARDED_BY(mu_);
};

class EtcdClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<testing::EtcdServer>> etcd =
        testing::EtcdServer::Start();
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    client_ = std::make_unique<EtcdClient>(etcd_->endpoint());
  }

  std::unique_ptr<testing::EtcdServer> etcd_;
  std::unique_ptr<EtcdClient> client_;
};

TEST_F(EtcdClientTest, KeysUnderAPrefixAndCreateIfAbsent) {
  ASSERT_TRUE(client_->Put("/t/a", "1").ok());
  ASSERT_TRUE(client_->Put("/t/b", "2").ok());
  ASSERT_TRUE(client_->Put("/u/c", "3").ok());
  int64_t revision = 0;
  absl::StatusOr<std::vector<EtcdKeyValue>> keys =
      client_->Range("/t/", &revision);
  ASSERT_TRUE(keys.ok()) << keys.status();
  ASSERT_EQ(keys->size(), 2u);
  EXPECT_EQ((*keys)[0].key, "/t/a");
  EXPECT_EQ((*keys)[1].value, "2");
  EXPECT_GT(revision, 0);

  absl::StatusOr<bool> first = client_->CreateIfAbsent("/t/owner", "x", 0);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(*first);
  EtcdKeyValue current;
  absl::StatusOr<bool> second =
      client_->CreateIfAbsent("/t/owner", "y", 0, &current);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_FALSE(*second);
  EXPECT_EQ(current.value, "x");

  EXPECT_FALSE(*client_->DeleteIfValue("/t/owner", "y"));
  EXPECT_TRUE(*client_->DeleteIfValue("/t/owner", "x"));
  EXPECT_TRUE(*client_->CreateIfAbsent("/t/owner", "y", 0));
}

TEST_F(EtcdClientTest, AWatchSeesPutsAndDeletesAndLeasesTakeTheirKeys) {
  int64_t revision = 0;
  ASSERT_TRUE(client_->Range("/m/", &revision).ok());
  Events events;
  absl::Mutex ended_mu;
  absl::Status ended ABSL_GUARDED_BY(ended_mu) = absl::OkStatus();
  EtcdWatch watch(
      *client_, "/m/", revision + 1,
      [&](bool deleted, const EtcdKeyValue& kv) { events.Add(deleted, kv); },
      [&](absl::Status why) {
        absl::MutexLock lock(&ended_mu);
        ended = why;
      });

  absl::StatusOr<int64_t> kept = client_->GrantLease(absl::Seconds(2));
  absl::StatusOr<int64_t> revoked = client_->GrantLease(absl::Seconds(60));
  absl::StatusOr<int64_t> expiring = client_->GrantLease(absl::Seconds(2));
  ASSERT_TRUE(kept.ok() && revoked.ok() && expiring.ok());
  ASSERT_TRUE(client_->Put("/m/kept", "k", *kept).ok());
  ASSERT_TRUE(client_->Put("/m/revoked", "r", *revoked).ok());
  ASSERT_TRUE(client_->Put("/m/expiring", "e", *expiring).ok());
  bool deleted = false;
  EtcdKeyValue kv;
  for (const char* key : {"/m/kept", "/m/revoked", "/m/expiring"}) {
    ASSERT_TRUE(events.Next(&deleted, &kv)) << "no put of " << key;
    EXPECT_FALSE(deleted);
    EXPECT_EQ(kv.key, key);
  }
  ASSERT_TRUE(client_->RevokeLease(*revoked).ok());
  ASSERT_TRUE(events.Next(&deleted, &kv));
  EXPECT_TRUE(deleted);
  EXPECT_EQ(kv.key, "/m/revoked");

  // The kept lease is renewed until the expiring one's key is gone (etcd
  // takes a key within about a second of its lease's TTL).
  const absl::Time give_up = absl::Now() + kWait;
  for (;;) {
    absl::StatusOr<absl::Duration> ttl = client_->KeepAlive(*kept);
    ASSERT_TRUE(ttl.ok()) << ttl.status();
    EXPECT_GT(*ttl, absl::ZeroDuration());
    if (events.Next(&deleted, &kv, absl::Milliseconds(500))) {
      break;
    }
    ASSERT_LT(absl::Now(), give_up) << "the expiring lease's key stayed";
  }
  EXPECT_TRUE(deleted);
  EXPECT_EQ(kv.key, "/m/expiring");
  EXPECT_EQ(client_->KeepAlive(*expiring).status().code(),
            absl::StatusCode::kNotFound);
  int64_t now = 0;
  absl::StatusOr<std::vector<EtcdKeyValue>> left = client_->Range("/m/", &now);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 1u);
  EXPECT_EQ((*left)[0].key, "/m/kept");
  absl::MutexLock lock(&ended_mu);
  EXPECT_TRUE(ended.ok()) << ended << " (the watch must still be on)";
}

TEST_F(EtcdClientTest, AGoneEtcdIsUnavailableAndEndsTheWatch) {
  absl::Notification ended;
  absl::Status why;
  EtcdWatch watch(
      *client_, "/g/", 0, [](bool, const EtcdKeyValue&) {},
      [&](absl::Status status) {
        why = status;
        ended.Notify();
      });
  etcd_.reset();  // killed
  ASSERT_TRUE(ended.WaitForNotificationWithTimeout(kWait));
  EXPECT_EQ(why.code(), absl::StatusCode::kUnavailable) << why;
  EXPECT_EQ(client_->Put("/g/x", "1").code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace troupe
