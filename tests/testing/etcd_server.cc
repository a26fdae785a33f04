#include "tests/testing/etcd_server.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "node/cluster/etcd_client.h"
#include "tests/testing/reserved_port.h"

namespace troupe::testing {

constexpr char kEtcd[] = "/usr/bin/etcd";

absl::StatusOr<std::unique_ptr<EtcdServer>> EtcdServer::Start(
    absl::Duration timeout, std::vector<std::string> flags) {
  if (access(kEtcd, X_OK) != 0) {
    return absl::FailedPreconditionError(
        "no /usr/bin/etcd: install Debian's etcd-server (bazel/bootstrap.sh "
        "does)");
  }
  std::unique_ptr<EtcdServer> server(new EtcdServer());
  const char* tmp = getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/etcd.XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError("mkdtemp failed");
  }
  server->dir_ = pattern;
  ReservedPort client_port;
  ReservedPort peer_port;
  server->endpoint_ = client_port.address();
  const std::string client_url = "http://" + client_port.address();
  const std::string peer_url = "http://" + peer_port.address();
  client_port.Release();
  peer_port.Release();
  std::vector<std::string> args = {"--name=test",
                                   "--data-dir=" + server->dir_,
                                   "--listen-client-urls=" + client_url,
                                   "--advertise-client-urls=" + client_url,
                                   "--listen-peer-urls=" + peer_url,
                                   "--initial-advertise-peer-urls=" + peer_url,
                                   "--initial-cluster=test=" + peer_url,
                                   "--log-level=error"};
  args.insert(args.end(), flags.begin(), flags.end());
  absl::StatusOr<std::unique_ptr<ChildProcess>> process =
      ChildProcess::Start(kEtcd, args);
  if (!process.ok()) {
    return process.status();
  }
  server->process_ = *std::move(process);
  // Ready once a read answers; a new channel each time (a channel's
  // reconnect backoff would add seconds).
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last;
  while (absl::Now() < deadline) {
    EtcdClient client(server->endpoint_, absl::Seconds(1));
    int64_t revision = 0;
    last = client.Range("/", &revision).status();
    if (last.ok()) {
      return server;
    }
    if (absl::StatusOr<int> exited =
            server->process_->Wait(absl::ZeroDuration());
        exited.ok()) {
      return absl::UnavailableError(absl::StrCat(
          "etcd exited (wait status ", *exited,
          ") before it answered: see its output above (a port taken?)"));
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat("etcd did not answer within ",
                                                  absl::FormatDuration(timeout),
                                                  ": ", last.message()));
}

EtcdServer::~EtcdServer() {
  process_.reset();  // killed and reaped
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

}  // namespace troupe::testing
