#include "node/cluster/etcd_client.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace troupe {
namespace {

absl::Status FromGrpc(const grpc::Status& status, absl::string_view what) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  return absl::Status(
      static_cast<absl::StatusCode>(status.error_code()),
      absl::StrCat("etcd ", what, ": ", status.error_message()));
}

EtcdKeyValue FromProto(const mvccpb::KeyValue& kv) {
  EtcdKeyValue out;
  out.key = kv.key();
  out.value = kv.value();
  out.lease = kv.lease();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  return out;
}

}  // namespace

std::string EtcdPrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key (etcd's convention)
}

namespace {

// Reconnects within a second of etcd coming back (gRPC's default backoff
// grows to 120 s, longer than any lease), and pings an idle connection every
// 5 s (etcd's --grpc-keepalive-min-time, below which it refuses pings) so
// a connection that died silently ends a watch within about 10 s.
std::shared_ptr<grpc::Channel> EtcdChannel(const std::string& endpoint) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  return grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(),
                                   args);
}

}  // namespace

EtcdClient::EtcdClient(const std::string& endpoint, absl::Duration timeout)
    : endpoint_(endpoint),
      timeout_(timeout),
      channel_(EtcdChannel(endpoint)),
      kv_(etcdserverpb::KV::NewStub(channel_)),
      lease_(etcdserverpb::Lease::NewStub(channel_)),
      watch_(etcdserverpb::Watch::NewStub(channel_)) {}

void EtcdClient::Bound(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
}

absl::StatusOr<int64_t> EtcdClient::GrantLease(absl::Duration ttl) {
  grpc::ClientContext context;
  Bound(&context);
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(std::max<int64_t>(
      1, absl::ToInt64Seconds(absl::Ceil(ttl, absl::Seconds(1)))));
  etcdserverpb::LeaseGrantResponse response;
  if (absl::Status s = FromGrpc(
          lease_->LeaseGrant(&context, request, &response), "lease grant");
      !s.ok()) {
    return s;
  }
  if (!response.error().empty()) {
    return absl::UnavailableError(
        absl::StrCat("etcd lease grant: ", response.error()));
  }
  return response.id();
}

absl::StatusOr<absl::Duration> EtcdClient::KeepAlive(int64_t lease) {
  grpc::ClientContext context;
  Bound(&context);
  auto stream = lease_->LeaseKeepAlive(&context);
  etcdserverpb::LeaseKeepAliveRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseKeepAliveResponse response;
  const bool answered = stream->Write(request) && stream->Read(&response);
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!answered) {
    return FromGrpc(status.ok() ? grpc::Status(grpc::UNAVAILABLE,
                                               "the keep-alive got no answer")
                                : status,
                    "lease keep-alive");
  }
  if (response.ttl() <= 0) {
    return absl::NotFoundError(
        absl::StrCat("etcd lease ", lease, " has expired"));
  }
  return absl::Seconds(response.ttl());
}

absl::Status EtcdClient::RevokeLease(int64_t lease) {
  grpc::ClientContext context;
  Bound(&context);
  etcdserverpb::LeaseRevokeRequest request;
  request.set_id(lease);
  etcdserverpb::LeaseRevokeResponse response;
  return FromGrpc(lease_->LeaseRevoke(&context, request, &response),
                  "lease revoke");
}

absl::Status EtcdClient::Put(const std::string& key, const std::string& value,
                             int64_t lease) {
  grpc::ClientContext context;
  Bound(&context);
  etcdserverpb::PutRequest request;
  request.set_key(key);
  request.set_value(value);
  request.set_lease(lease);
  etcdserverpb::PutResponse response;
  return FromGrpc(kv_->Put(&context, request, &response), "put");
}

absl::StatusOr<bool> EtcdClient::CreateIfAbsent(const std::string& key,
                                                const std::string& value,
                                                int64_t lease,
                                                EtcdKeyValue* current) {
  grpc::ClientContext context;
  Bound(&context);
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* absent = request.add_compare();
  absent->set_key(key);
  absent->set_target(etcdserverpb::Compare::CREATE);
  absent->set_result(etcdserverpb::Compare::EQUAL);
  absent->set_create_revision(0);
  etcdserverpb::PutRequest* put = request.add_success()->mutable_request_put();
  put->set_key(key);
  put->set_value(value);
  put->set_lease(lease);
  request.add_failure()->mutable_request_range()->set_key(key);
  etcdserverpb::TxnResponse response;
  if (absl::Status s =
          FromGrpc(kv_->Txn(&context, request, &response), "transaction");
      !s.ok()) {
    return s;
  }
  if (!response.succeeded() && current != nullptr &&
      response.responses_size() > 0 &&
      response.responses(0).response_range().kvs_size() > 0) {
    *current = FromProto(response.responses(0).response_range().kvs(0));
  }
  return response.succeeded();
}

absl::StatusOr<bool> EtcdClient::DeleteIfValue(const std::string& key,
                                               const std::string& value) {
  grpc::ClientContext context;
  Bound(&context);
  etcdserverpb::TxnRequest request;
  etcdserverpb::Compare* same = request.add_compare();
  same->set_key(key);
  same->set_target(etcdserverpb::Compare::VALUE);
  same->set_result(etcdserverpb::Compare::EQUAL);
  same->set_value(value);
  request.add_success()->mutable_request_delete_range()->set_key(key);
  etcdserverpb::TxnResponse response;
  if (absl::Status s =
          FromGrpc(kv_->Txn(&context, request, &response), "transaction");
      !s.ok()) {
    return s;
  }
  return response.succeeded();
}

absl::StatusOr<std::vector<EtcdKeyValue>> EtcdClient::Range(
    const std::string& prefix, int64_t* revision) {
  return RangeOf(prefix, EtcdPrefixEnd(prefix), revision);
}

absl::StatusOr<std::optional<EtcdKeyValue>> EtcdClient::Get(
    const std::string& key) {
  absl::StatusOr<std::vector<EtcdKeyValue>> found = RangeOf(key, "", nullptr);
  if (!found.ok()) {
    return found.status();
  }
  if (found->empty()) {
    return std::nullopt;
  }
  return std::move(found->front());
}

absl::StatusOr<std::vector<EtcdKeyValue>> EtcdClient::RangeOf(
    const std::string& key, const std::string& range_end, int64_t* revision) {
  grpc::ClientContext context;
  Bound(&context);
  etcdserverpb::RangeRequest request;
  request.set_key(key);
  request.set_range_end(range_end);
  request.set_sort_target(etcdserverpb::RangeRequest::KEY);
  request.set_sort_order(etcdserverpb::RangeRequest::ASCEND);
  etcdserverpb::RangeResponse response;
  if (absl::Status s =
          FromGrpc(kv_->Range(&context, request, &response), "range");
      !s.ok()) {
    return s;
  }
  if (revision != nullptr) {
    *revision = response.header().revision();
  }
  std::vector<EtcdKeyValue> out;
  out.reserve(response.kvs_size());
  for (const mvccpb::KeyValue& kv : response.kvs()) {
    out.push_back(FromProto(kv));
  }
  return out;
}

EtcdWatch::EtcdWatch(EtcdClient& client, const std::string& prefix,
                     int64_t start_revision, OnEvent on_event, OnEnd on_end)
    : on_event_(std::move(on_event)), on_end_(std::move(on_end)) {
  thread_ = std::thread([this, &client, prefix, start_revision] {
    Run(client, prefix, start_revision);
  });
}

EtcdWatch::~EtcdWatch() {
  stopping_.store(true, std::memory_order_release);
  context_.TryCancel();
  thread_.join();
}

void EtcdWatch::Run(EtcdClient& client, std::string prefix,
                    int64_t start_revision) {
  auto stream = client.watch_stub().Watch(&context_);
  etcdserverpb::WatchRequest request;
  etcdserverpb::WatchCreateRequest* create = request.mutable_create_request();
  create->set_key(prefix);
  create->set_range_end(EtcdPrefixEnd(prefix));
  create->set_start_revision(start_revision);
  absl::Status why = absl::UnavailableError("etcd watch: the stream ended");
  bool canceled = false;
  if (stream->Write(request)) {
    etcdserverpb::WatchResponse response;
    while (stream->Read(&response)) {
      if (response.canceled()) {
        canceled = true;
        why = absl::FailedPreconditionError(
            absl::StrCat("etcd watch canceled: ", response.cancel_reason(),
                         response.compact_revision() > 0
                             ? absl::StrCat(" (compacted at ",
                                            response.compact_revision(), ")")
                             : ""));
        break;
      }
      for (const mvccpb::Event& event : response.events()) {
        on_event_(event.type() == mvccpb::Event::DELETE, FromProto(event.kv()));
      }
    }
  }
  context_.TryCancel();
  grpc::Status status = stream->Finish();
  if (stopping_.load(std::memory_order_acquire)) {
    return;
  }
  if (!status.ok() && !canceled) {  // etcd's own reason says more
    why = FromGrpc(status, "watch");
  }
  on_end_(why);
}

}  // namespace troupe
