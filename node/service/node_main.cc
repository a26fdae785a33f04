#include "node/service/node_main.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "google/protobuf/any.pb.h"
#include "node/remote/cluster_auth.h"
#include "node/remote/link_options.h"
#include "node/runtime/dead_letters.h"
#include "node/runtime/logging.h"
#include "node/runtime/message.h"
#include "node/runtime/pid.h"
#include "node/service/command_line.h"
#include "node/service/kinds.h"
#include "node/service/node_metrics.h"
#include "node/service/node_server.h"
#include "node/service/stop_signals.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7420",
          "host:port to listen on; port 0 picks a free port (the bound "
          "address is printed)");
ABSL_FLAG(std::string, advertise, "",
          "host:port that peers and refs use to reach this node (default: "
          "the bound address)");
ABSL_FLAG(std::string, cluster, "troupe",
          "the cluster's name: a node joins seeds of this cluster only");
ABSL_FLAG(std::vector<std::string>, seeds, {},
          "comma-separated host:port of nodes to join the cluster through; "
          "each is retried with backoff until it answers, and the node then "
          "links to every member (README, \"Cluster\")");
ABSL_FLAG(std::string, etcd, "",
          "host:port of an etcd member's client URL: membership on etcd "
          "(each node registers under a lease; one view for all) instead of "
          "embedded; --seeds is then not used");
ABSL_FLAG(absl::Duration, lease_ttl, absl::Seconds(2),
          "with --etcd: the TTL of this node's etcd lease, which bounds how "
          "long a dead node stays up for the others (at least 1 s; etcd "
          "raises it to its own minimum, 2 s unless its --election-timeout "
          "is lowered)");
ABSL_FLAG(absl::Duration, passivate_after, absl::Minutes(5),
          "a virtual actor (an identity: kind + key) with no message for "
          "this long is passivated; the next message activates it again");
ABSL_FLAG(std::vector<std::string>, peers, {},
          "comma-separated host:port of nodes to link to at start (others "
          "are linked on first use)");
ABSL_FLAG(std::string, log_format, "text",
          "text: one readable line per event on stderr; json: one JSON object "
          "per line (time, level, node, component, message, and fields such "
          "as peer or ref), for log shippers");
ABSL_FLAG(std::string, metrics_listen, "",
          "host:port to serve Prometheus metrics on, at /metrics (off when "
          "empty; port 0 picks a free port). As --listen: a non-loopback "
          "address needs --secret_file, and then asks for basic auth "
          "(user troupe, the secret as password)");
ABSL_FLAG(std::string, secret_file, "",
          "file holding the cluster secret (printable ASCII); every node link "
          "and client call must carry it. Required to listen on a "
          "non-loopback address");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate of this node (TLS; with --tls_key and --tls_ca)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificate: with it the port speaks only TLS, node links "
          "are mutual TLS (each node presents its certificate, signed by "
          "this CA), and clients must trust this CA");
ABSL_FLAG(int64_t, max_message_bytes, 4 << 20,
          "largest message a node link or client call may carry; larger ones "
          "are refused (RESOURCE_EXHAUSTED, or a dead letter on a link)");
ABSL_FLAG(absl::Duration, connect_timeout, absl::Seconds(5),
          "how long a node link may take to come up (several round trips: "
          "TCP, TLS, HTTP/2, the handshake) before the attempt is given up; "
          "raise it for paths with round trips over a second");
ABSL_FLAG(absl::Duration, failure_threshold, absl::Milliseconds(600),
          "a linked peer silent this long is declared down (its watchers get "
          "NODE_DOWN); a peer whose frames come in long gaps is allowed "
          "more, up to the larger of 5s and twice this. 200ms to 60s. Raise "
          "it where nodes may be starved of CPU for longer (oversubscribed "
          "hosts, sanitizer builds): a starved node cannot tell its own "
          "starvation from a silent peer");
ABSL_FLAG(int64_t, mailbox_capacity, 0,
          "mailbox bound of actors spawned through the ActorService; "
          "messages beyond it become counted dead letters (0 = unbounded)");
ABSL_FLAG(int64_t, link_queue_capacity, 200000,
          "user messages queued for one peer at most; beyond it sends to that "
          "peer become counted dead letters (link queue full). Bounds the "
          "memory a slow peer or path can hold on this node");
ABSL_FLAG(bool, ingress_caller_runs, true,
          "an idle actor answers a typed gRPC call on the gRPC thread that "
          "received it (faster); turn off when such actors compute for long "
          "or block");
ABSL_FLAG(absl::Duration, run_for, absl::ZeroDuration(),
          "stop after this long (e.g. 30s, 5m); 0 = until SIGINT/SIGTERM");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(2),
          "how long calls in flight may finish when stopping; peers get "
          "this, and at least 2.5s, to read what is on the node's links and "
          "close them");

namespace troupe {
namespace {

// Counts a node's dead letters by message type, for its last line: what
// was lost is then plain to whoever stopped it.
class DeadLetterTally {
 public:
  explicit DeadLetterTally(DeadLetters& dead_letters)
      : dead_letters_(dead_letters),
        subscription_(dead_letters.Subscribe(
            [this](const DeadLetterEvent& event) { Count(event); })) {}
  ~DeadLetterTally() { dead_letters_.Unsubscribe(subscription_); }

  // " (type n, type n, ...)", most first; empty when there were none.
  std::string Summary() const {
    std::vector<std::pair<uint64_t, std::string>> sorted;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [type, count] : counts_) {
        sorted.emplace_back(count, type);
      }
    }
    if (sorted.empty()) {
      return "";
    }
    std::sort(sorted.rbegin(), sorted.rend());
    std::vector<std::string> parts;
    for (const auto& [count, type] : sorted) {
      parts.push_back(absl::StrCat(type, " ", count));
    }
    return absl::StrCat(" (", absl::StrJoin(parts, ", "), ")");
  }

 private:
  void Count(const DeadLetterEvent& event) {
    std::string type = TypeName(*event.message);
    if (const auto* any = As<google::protobuf::Any>(*event.message)) {
      type = std::string(AnyTypeName(*any));
    }
    absl::MutexLock lock(&mu_);
    ++counts_[type];
  }

  DeadLetters& dead_letters_;
  const uint64_t subscription_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> counts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace
namespace {

// The usage text, with the kinds this binary can spawn.
std::string Usage() {
  std::string usage =
      "runs a troupe node: a local actor runtime with a gRPC endpoint\n"
      "serving the public ActorService and the node links.\n"
      "  troupe_node --listen=127.0.0.1:7420 [--peers=host:port,...]\n"
      "Prints one line when ready; on SIGINT/SIGTERM it tells its peers it\n"
      "is leaving, stops its actors and exits 0.\n\nKinds "
      "(ActorService.Spawn):\n";
  for (const Kind* kind : KindRegistry::Global().All()) {
    absl::StrAppend(&usage, "  ", kind->name, ": ", kind->description, "\n");
  }
  return usage;
}

}  // namespace

int NodeMain(int argc, char** argv) {
  const std::vector<std::string> args =
      ParseCommandLine(Usage().c_str(), argc, argv);
  if (!args.empty()) {
    std::fprintf(stderr, "troupe_node: unexpected argument '%s' (see --help)\n",
                 args[0].c_str());
    return 2;
  }

  // Before any thread starts (see stop_signals.h).
  const StopSignals stop_signals;

  if (const std::string format = absl::GetFlag(FLAGS_log_format);
      format == "json") {
    SetLogFormat(LogFormat::kJson);
  } else if (format != "text") {
    std::fprintf(stderr,
                 "troupe_node: --log_format must be text or json, not '%s'\n",
                 format.c_str());
    return 2;
  }

  NodeServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.advertise = absl::GetFlag(FLAGS_advertise);
  if (const std::string file = absl::GetFlag(FLAGS_secret_file);
      !file.empty()) {
    absl::StatusOr<std::string> secret = ReadSecretFile(file);
    if (!secret.ok()) {
      std::fprintf(stderr, "troupe_node: %s\n",
                   std::string(secret.status().message()).c_str());
      return 2;
    }
    options.link.secret = *std::move(secret);
  }
  absl::StatusOr<TlsPem> tls =
      LoadTls(absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
              absl::GetFlag(FLAGS_tls_ca), /*client=*/false);
  if (!tls.ok()) {
    std::fprintf(stderr, "troupe_node: %s\n",
                 std::string(tls.status().message()).c_str());
    return 2;
  }
  options.link.tls = *std::move(tls);
  const int64_t max_message = absl::GetFlag(FLAGS_max_message_bytes);
  const int64_t mailbox = absl::GetFlag(FLAGS_mailbox_capacity);
  const int64_t link_queue = absl::GetFlag(FLAGS_link_queue_capacity);
  if (max_message < 1024 || max_message > (1 << 30) || mailbox < 0 ||
      link_queue < 1) {
    std::fprintf(stderr,
                 "troupe_node: --max_message_bytes must be 1024..1073741824, "
                 "--mailbox_capacity >= 0 and --link_queue_capacity >= 1\n");
    return 2;
  }
  options.link.max_message_bytes = static_cast<size_t>(max_message);
  options.link.queue_capacity = static_cast<size_t>(link_queue);
  options.link.connect_timeout = absl::GetFlag(FLAGS_connect_timeout);
  if (options.link.connect_timeout <= absl::ZeroDuration()) {
    std::fprintf(stderr, "troupe_node: --connect_timeout must be positive\n");
    return 2;
  }
  const absl::Duration threshold = absl::GetFlag(FLAGS_failure_threshold);
  if (absl::Status valid = SetFailureThreshold(threshold, &options.link);
      !valid.ok()) {
    std::fprintf(stderr, "troupe_node: --failure_threshold: %s\n",
                 std::string(valid.message()).c_str());
    return 2;
  }
  options.service.mailbox_capacity = static_cast<size_t>(mailbox);
  options.service.caller_runs = absl::GetFlag(FLAGS_ingress_caller_runs);
  options.cluster.name = absl::GetFlag(FLAGS_cluster);
  options.cluster.seeds = absl::GetFlag(FLAGS_seeds);
  options.cluster.etcd = absl::GetFlag(FLAGS_etcd);
  options.cluster.passivate_after = absl::GetFlag(FLAGS_passivate_after);
  options.cluster.lease_ttl = absl::GetFlag(FLAGS_lease_ttl);
  if (!options.cluster.etcd.empty() && !IsNodeAddress(options.cluster.etcd)) {
    std::fprintf(stderr, "troupe_node: --etcd: '%s' is not host:port\n",
                 options.cluster.etcd.c_str());
    return 2;
  }
  for (const std::string& seed : options.cluster.seeds) {
    if (!IsNodeAddress(seed)) {
      std::fprintf(stderr, "troupe_node: --seeds: '%s' is not host:port\n",
                   seed.c_str());
      return 2;
    }
  }
  for (const std::string& peer : absl::GetFlag(FLAGS_peers)) {
    if (!IsNodeAddress(peer)) {
      std::fprintf(stderr, "troupe_node: --peers: '%s' is not host:port\n",
                   peer.c_str());
      return 2;
    }
  }
  auto node = NodeServer::Start(options);
  if (!node.ok()) {
    std::fprintf(stderr, "troupe_node: %s\n", node.status().ToString().c_str());
    return 1;
  }
  SetLogNode((*node)->address());
  std::printf("troupe node listening on %s incarnation %016llx\n",
              (*node)->address().c_str(),
              static_cast<unsigned long long>((*node)->incarnation()));
  std::fflush(stdout);
  std::unique_ptr<MetricsEndpoint> metrics;
  if (const std::string listen = absl::GetFlag(FLAGS_metrics_listen);
      !listen.empty()) {
    absl::StatusOr<std::unique_ptr<MetricsEndpoint>> started =
        MetricsEndpoint::Start(listen, options.link.secret, &(*node)->node(),
                               &(*node)->rpc_counters());
    if (!started.ok()) {
      std::fprintf(stderr, "troupe_node: %s\n",
                   started.status().ToString().c_str());
      (*node)->Shutdown(absl::ZeroDuration());
      return 2;
    }
    metrics = *std::move(started);
    std::printf("troupe node metrics on http://%s/metrics\n",
                metrics->address().c_str());
    std::fflush(stdout);
  }
  (*node)->ConnectPeers(absl::GetFlag(FLAGS_peers));
  DeadLetterTally tally((*node)->node().system().dead_letters());

  const int sig = stop_signals.Await(absl::GetFlag(FLAGS_run_for));
  std::printf("troupe node %s: %s, shutting down\n", (*node)->address().c_str(),
              sig == SIGINT    ? "SIGINT"
              : sig == SIGTERM ? "SIGTERM"
                               : "--run_for elapsed");
  (*node)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  const SystemStats stats = (*node)->node().system().stats();
  std::printf(
      "troupe node stopped: %llu messages handled, %llu dead letters%s\n",
      static_cast<unsigned long long>(stats.messages_processed),
      static_cast<unsigned long long>(stats.dead_letters),
      tally.Summary().c_str());
  return 0;
}

}  // namespace troupe
