#include "tests/testing/counting_identity.h"

#include <google/protobuf/wrappers.pb.h>

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "node/runtime/actor.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/message.h"

namespace troupe::testing {

using google::protobuf::StringValue;

void Activations::Started() {
  absl::MutexLock lock(&mu_);
  ++started_;
}

void Activations::Stopped() {
  absl::MutexLock lock(&mu_);
  ++stopped_;
}

void Activations::Handled() {
  absl::MutexLock lock(&mu_);
  ++handled_;
}

bool Activations::WaitStopped(int n, absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  wanted_stopped_ = n;
  return mu_.AwaitWithTimeout(absl::Condition(this, &Activations::Enough),
                              timeout);
}

int Activations::started() {
  absl::MutexLock lock(&mu_);
  return started_;
}

int Activations::handled() {
  absl::MutexLock lock(&mu_);
  return handled_;
}

namespace {

class Counter : public Actor {
 public:
  explicit Counter(std::shared_ptr<Activations> log) : log_(std::move(log)) {}
  absl::Status Started(ActorContext&) override {
    log_->Started();
    return absl::OkStatus();
  }
  void Stopped(ActorContext&) override { log_->Stopped(); }
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (Is<StringValue>(message)) {
      log_->Handled();
      std::optional<Identity> me = IdentityOf(ctx.Self());
      StringValue reply;
      reply.set_value(absl::StrCat(ctx.Self().address(), " ",
                                   me ? me->kind : "?", ":", me ? me->key : "?",
                                   " ", ++count_));
      ctx.Reply(std::move(reply));
    }
    return absl::OkStatus();
  }

 private:
  const std::shared_ptr<Activations> log_;
  int count_ = 0;
};

}  // namespace

ActivationFactory CountingKind(std::shared_ptr<Activations> log) {
  return [log](absl::string_view kind) -> absl::StatusOr<ActorFactory> {
    if (kind != "counter") {
      return absl::NotFoundError(absl::StrCat("no kind '", kind, "'"));
    }
    return ActorFactory([log] { return std::make_unique<Counter>(log); });
  };
}

absl::StatusOr<Answer> Add(ActorSystem& system, const std::string& key,
                           const std::string& kind, absl::Duration timeout) {
  absl::StatusOr<ActorRef> ref = GetIdentity(system, kind, key);
  if (!ref.ok()) {
    return ref.status();
  }
  StringValue add;
  add.set_value("add");
  absl::StatusOr<MessagePtr> reply = system.Ask(*ref, add, timeout).get();
  if (!reply.ok()) {
    return reply.status();
  }
  const auto* text = As<StringValue>(**reply);
  std::vector<std::string> parts;
  if (text != nullptr) {
    parts = absl::StrSplit(text->value(), ' ');
  }
  Answer answer;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &answer.count)) {
    return absl::InternalError("the counter's answer is malformed");
  }
  answer.node = parts[0];
  answer.identity = parts[1];
  return answer;
}

}  // namespace troupe::testing
