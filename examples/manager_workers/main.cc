// manager_workers: two seed scenarios across three nodes.
//
// Part 1, actorio's manager: a Manager on node A spawns one Worker per
// request on node B and forwards the request with its original sender;
// each Worker sleeps, answers that sender (an outside inbox), and stops. The
// answers arrive in order of completion.
//
// Part 2, pyctor's master/worker: a Master on node A hands jobs to Workers
// on nodes B and C as they report ready, and watches them. Node C is killed
// (kill -9) while its Worker holds a job: the Master gets
// Terminated{NODE_DOWN} and gives the job to the surviving Worker. At the
// end every job is done exactly once.
//
//   bazel run //examples/manager_workers [-- --jobs=20]
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <memory>
#include <random>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "examples/common/example_cluster.h"
#include "examples/manager_workers/jobs.pb.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/inbox.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"

ABSL_FLAG(int, requests, 10, "part 1: requests to the Manager");
ABSL_FLAG(int, jobs, 20, "part 2: jobs for the Master");
ABSL_FLAG(absl::Duration, work, absl::Milliseconds(50),
          "part 2: how long a job takes");

namespace troupe::examples {
namespace {

constexpr absl::Duration kWait = absl::Seconds(30);

// --- Part 1 -----------------------------------------------------------------

// Sleeps (a timer, not a blocked thread), answers the request's sender,
// and ends (actorio's EndMainLoop).
class Sleeper final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* request = As<Request>(message)) {
      requester_ = ctx.Sender();
      request_ = *request;
      ctx.Tell(ctx.Self(), Text("awake"),
               TellOptions{absl::Milliseconds(request->sleep_ms())});
    } else if (IsText(message, "awake")) {
      Result result;
      result.set_id(request_.id());
      result.set_sleep_ms(request_.sleep_ms());
      *result.mutable_worker() = PidOf(ctx.Self());
      ctx.Tell(requester_, std::move(result));
      ctx.Stop();
    }
    return absl::OkStatus();
  }

 private:
  ActorRef requester_;
  Request request_;
};

// One worker per request, on node B; the request goes on with its sender.
class Manager final : public Actor {
 public:
  explicit Manager(std::string workers_node)
      : workers_node_(std::move(workers_node)) {}

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* request = As<Request>(message)) {
      // Forwarded once the worker exists: it sees the original sender, and
      // answers it.
      ctx.SpawnOn(workers_node_, "sleeper",
                  absl::StrCat("sleeper-", request->id()), nullptr, kWait,
                  [request = *request, sender = ctx.Sender()](
                      ActorContext& ctx, absl::StatusOr<ActorRef> worker) {
                    if (!worker.ok()) {
                      std::printf("manager: no worker: %s\n",
                                  worker.status().ToString().c_str());
                      return;
                    }
                    ctx.Tell(*worker, request, sender);
                  });
    }
    return absl::OkStatus();
  }

 private:
  const std::string workers_node_;
};

bool PartOne(ExampleCluster& cluster) {
  ActorSystem& system = cluster.system();
  std::printf(
      "part 1 (actorio): a Manager on node A (%s), one Worker per "
      "request on node B (%s)\n",
      cluster.a().address().c_str(), cluster.node(0).c_str());
  const std::string node_b = cluster.node(0);
  absl::StatusOr<ActorRef> manager = system.Spawn(
      [node_b] { return std::make_unique<Manager>(node_b); }, "manager");
  if (!manager.ok()) {
    return false;
  }
  // Requests with shuffled sleep times, sent from an outside inbox.
  Inbox inbox(system);
  const int requests = absl::GetFlag(FLAGS_requests);
  std::vector<int64_t> sleeps;
  for (int i = 0; i < requests; ++i) {
    sleeps.push_back(40 + 30 * i);
  }
  std::shuffle(sleeps.begin(), sleeps.end(), std::mt19937(42));
  for (int i = 0; i < requests; ++i) {
    Request request;
    request.set_id(i + 1);
    request.set_sleep_ms(sleeps[i]);
    inbox.Tell(*manager, request);
    std::printf("  request %d: sleep %lld ms\n", i + 1,
                static_cast<long long>(sleeps[i]));
  }
  for (int i = 0; i < requests; ++i) {
    absl::StatusOr<Result> result = inbox.ReceiveAs<Result>(kWait);
    if (!result.ok()) {
      std::printf("  no answer: %s\n", result.status().ToString().c_str());
      return false;
    }
    std::printf("  answer from %s: request %d, slept %lld ms\n",
                system.Ref(result->worker()).ToString().c_str(), result->id(),
                static_cast<long long>(result->sleep_ms()));
  }
  std::fflush(stdout);
  return true;
}

// --- Part 2 -----------------------------------------------------------------

// Reports ready when it starts and after each job; a job takes work_ms.
class Worker final : public Actor {
 public:
  explicit Worker(WorkerInit init) : init_(std::move(init)) {}

  absl::Status Started(ActorContext& ctx) override {
    master_ = ctx.Ref(init_.master());
    ctx.Tell(master_, WorkerReady());
    return absl::OkStatus();
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (const auto* job = As<Job>(message)) {
      JobDone done;
      done.set_id(job->id());
      ctx.Tell(ctx.Self(), done,
               TellOptions{absl::Milliseconds(init_.work_ms())});
    } else if (const auto* done = As<JobDone>(message)) {
      ctx.Tell(master_, *done);
      ctx.Tell(master_, WorkerReady());
    }
    return absl::OkStatus();
  }

 private:
  const WorkerInit init_;
  ActorRef master_;
};

absl::StatusOr<ActorFactory> MakeWorker(const google::protobuf::Any* init) {
  absl::StatusOr<WorkerInit> parsed = InitAs<WorkerInit>("worker", init);
  if (!parsed.ok()) {
    return parsed.status();
  }
  WorkerInit copy = *parsed;
  return ActorFactory([copy] { return std::make_unique<Worker>(copy); });
}

// Hands out jobs to ready workers, one at a time each; a worker that
// terminates gives its job back to the queue. Reports to `observer`.
class Master final : public Actor {
 public:
  Master(int jobs, ActorRef observer) : observer_(std::move(observer)) {
    for (int i = 1; i <= jobs; ++i) {
      queue_.push_back(i);
    }
    total_ = jobs;
  }

  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (Is<WorkerReady>(message)) {
      const ActorRef worker = ctx.Sender();
      if (!watched_.contains(worker)) {
        watched_[worker] = true;
        ctx.Watch(worker);
      }
      ready_.push_back(worker);
      Dispatch(ctx);
    } else if (const auto* done = As<JobDone>(message)) {
      in_flight_.erase(ctx.Sender());
      if (++times_done_[done->id()] == 1) {
        ++done_;
      }
      Report(ctx, Progress::DONE, done->id(), ctx.Sender());
      if (done_ == total_) {
        Progress finished;
        finished.set_kind(Progress::FINISHED);
        finished.set_done(done_);
        for (const auto& [id, times] : times_done_) {
          finished.set_done_twice(finished.done_twice() + (times > 1 ? 1 : 0));
        }
        finished.set_requeued(requeued_);
        ctx.Tell(observer_, std::move(finished));
      }
    } else if (const auto* gone = As<Terminated>(message)) {
      const ActorRef worker = ctx.Ref(gone->ref());
      ready_.erase(std::remove(ready_.begin(), ready_.end(), worker),
                   ready_.end());
      if (auto it = in_flight_.find(worker); it != in_flight_.end()) {
        queue_.push_front(it->second);  // done by someone else, soon
        ++requeued_;
        Report(ctx, Progress::REQUEUED, it->second, worker, gone->reason());
        in_flight_.erase(it);
        Dispatch(ctx);
      }
    }
    return absl::OkStatus();
  }

 private:
  void Dispatch(ActorContext& ctx) {
    while (!queue_.empty() && !ready_.empty()) {
      const ActorRef worker = ready_.front();
      ready_.pop_front();
      Job job;
      job.set_id(queue_.front());
      queue_.pop_front();
      in_flight_[worker] = job.id();
      Report(ctx, Progress::STARTED, job.id(), worker);
      ctx.Tell(worker, std::move(job));
    }
  }

  void Report(ActorContext& ctx, Progress::Kind kind, int job,
              const ActorRef& worker,
              TerminationReason reason = v1::TERMINATION_REASON_UNSPECIFIED) {
    Progress progress;
    progress.set_kind(kind);
    progress.set_job(job);
    progress.set_reason(reason);
    *progress.mutable_worker() = PidOf(worker);
    ctx.Tell(observer_, std::move(progress));
  }

  const ActorRef observer_;
  int total_ = 0;
  int done_ = 0;
  int requeued_ = 0;
  std::deque<int> queue_;
  std::deque<ActorRef> ready_;
  absl::flat_hash_map<ActorRef, int> in_flight_;
  absl::flat_hash_map<ActorRef, bool> watched_;
  absl::flat_hash_map<int, int> times_done_;
};

bool PartTwo(ExampleCluster& cluster) {
  ActorSystem& system = cluster.system();
  std::printf(
      "part 2 (pyctor): a Master on node A, Workers on node B (%s) "
      "and node C (%s)\n",
      cluster.node(0).c_str(), cluster.node(1).c_str());
  Inbox observer(system);
  const int jobs = absl::GetFlag(FLAGS_jobs);
  absl::StatusOr<ActorRef> master = system.Spawn(
      [jobs, &observer] {
        return std::make_unique<Master>(jobs, observer.ref());
      },
      "master");
  if (!master.ok()) {
    return false;
  }
  // A worker on each of B and C, spawned by kind on its node.
  WorkerInit init;
  *init.mutable_master() = PidOf(*master);
  init.set_work_ms(absl::ToInt64Milliseconds(absl::GetFlag(FLAGS_work)));
  for (size_t i = 0; i < 2; ++i) {
    const std::string name = i == 0 ? "worker-B" : "worker-C";
    if (absl::StatusOr<ActorRef> worker =
            cluster.SpawnOn(i, "worker", name, &init);
        !worker.ok()) {
      std::printf("  could not spawn %s: %s\n", name.c_str(),
                  worker.status().ToString().c_str());
      return false;
    }
  }
  bool killed = false;
  for (;;) {
    absl::StatusOr<Progress> progress = observer.ReceiveAs<Progress>(kWait);
    if (!progress.ok()) {
      std::printf("  the master went quiet: %s\n",
                  progress.status().ToString().c_str());
      return false;
    }
    const std::string worker = progress->worker().id();
    switch (progress->kind()) {
      case Progress::STARTED:
        std::printf("[%s] job %d started on %s\n", Now().c_str(),
                    progress->job(), worker.c_str());
        // Halfway, kill node C while its worker holds a job.
        if (!killed && worker == "worker-C" && progress->job() > jobs / 2) {
          std::printf("[%s] kill -9 of node C while worker-C holds job %d\n",
                      Now().c_str(), progress->job());
          cluster.Kill(1);
          killed = true;
        }
        break;
      case Progress::DONE:
        std::printf("[%s] job %d done by %s\n", Now().c_str(), progress->job(),
                    worker.c_str());
        break;
      case Progress::REQUEUED:
        std::printf("[%s] master: %s is gone (%s); job %d requeued\n",
                    Now().c_str(), worker.c_str(),
                    v1::TerminationReason_Name(progress->reason()).c_str(),
                    progress->job());
        break;
      case Progress::FINISHED:
        std::printf("all %d jobs done; done twice: %d; requeued: %d\n",
                    progress->done(), progress->done_twice(),
                    progress->requeued());
        std::fflush(stdout);
        return progress->done() == jobs && progress->done_twice() == 0;
      default:
        break;
    }
    std::fflush(stdout);
  }
}

int Run() {
  absl::StatusOr<std::unique_ptr<ExampleCluster>> cluster =
      ExampleCluster::Start(/*others=*/2);
  if (!cluster.ok()) {
    std::fprintf(stderr, "manager_workers: %s\n",
                 cluster.status().ToString().c_str());
    return 1;
  }
  if (!PartOne(**cluster)) {
    return 1;
  }
  return PartTwo(**cluster) ? 0 : 1;
}

}  // namespace
}  // namespace troupe::examples

TROUPE_REGISTER_KIND("sleeper",
                     "sleeps as a Request says, answers its sender, stops",
                     troupe::NoInit<troupe::examples::Sleeper>("sleeper"));
TROUPE_REGISTER_KIND("worker",
                     "a master's worker (init troupe.examples.WorkerInit)",
                     troupe::examples::MakeWorker);

int main(int argc, char** argv) {
  return troupe::examples::ExampleMain(
      argc, argv,
      "actorio's manager (one worker per request on another node) and\n"
      "pyctor's master/worker (a worker's node is killed; its job is done\n"
      "by the other worker), across three nodes.\n"
      "  bazel run //examples/manager_workers",
      troupe::examples::Run);
}
