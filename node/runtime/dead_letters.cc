#include "node/runtime/dead_letters.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/any.pb.h"
#include "node/runtime/envelope.h"
#include "node/runtime/logging.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {

uint64_t DeadLetters::Subscribe(Callback callback) {
  MutexLock lock(&mu_);
  const uint64_t id = next_id_++;
  subscribers_.push_back(
      std::make_shared<const Subscriber>(Subscriber{id, std::move(callback)}));
  return id;
}

void DeadLetters::Unsubscribe(uint64_t id) {
  MutexLock lock(&mu_);
  for (auto it = subscribers_.begin(); it != subscribers_.end(); ++it) {
    if ((*it)->id == id) {
      subscribers_.erase(it);
      return;
    }
  }
}

std::array<uint64_t, v1::DeadLetterReason_ARRAYSIZE>
DeadLetters::count_by_reason() const {
  std::array<uint64_t, v1::DeadLetterReason_ARRAYSIZE> counts{};
  for (size_t i = 0; i < counts.size(); ++i) {
    counts[i] = by_reason_[i].load(std::memory_order_relaxed);
  }
  return counts;
}

void DeadLetters::Publish(const ActorRef& target, MessagePtr message,
                          const ActorRef& sender, DeadLetterReason reason,
                          absl::string_view detail, const ActorRef& notify) {
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v1::DeadLetterReason_IsValid(reason)) {
    by_reason_[reason].fetch_add(1, std::memory_order_relaxed);
  }
  const DeadLetterEvent event{target, message.get(), sender, reason, detail};
  std::string log_line;
  {
    // Callbacks run under the lock (shared), so Unsubscribe, which takes it
    // exclusively, returns only once no callback of that subscriber runs.
    ReaderMutexLock lock(&mu_);
    for (const auto& subscriber : subscribers_) {
      subscriber->callback(event);
    }
  }
  {
    MutexLock lock(&mu_);
    const absl::Time now = absl::Now();
    if (now - last_log_ >= absl::Seconds(1)) {
      log_line =
          absl::StrCat("dead letter (", DeadLetterReasonName(reason),
                       detail.empty() ? "" : ": ", detail, ") to ",
                       target.ToString(), ": ", TypeName(*message), " from ",
                       sender.ToString(), " (", DeadLetterRemedy(reason), ")");
      if (unlogged_ > 0) {
        absl::StrAppend(&log_line, "; ", unlogged_,
                        " more since the last line were not logged");
      }
      last_log_ = now;
      unlogged_ = 0;
    } else {
      ++unlogged_;
    }
  }
  if (!log_line.empty()) {
    const std::string ref = target.ToString();
    Log(LogSeverity::kWarning, "runtime", log_line,
        {{"ref", ref}, {"reason", DeadLetterReasonName(reason)}});
  }
  if (notify && !Is<DeadLetter>(*message)) {
    DeadLetter letter;
    *letter.mutable_target() = ToProto(target.pid());
    *letter.mutable_sender() = ToProto(sender.pid());
    letter.set_reason(reason);
    letter.set_detail(std::string(detail));
    const auto* packed = As<google::protobuf::Any>(*message);
    if (reason == kTooLarge) {
      // Its type only: the message did not fit, so a notice carrying it
      // would not fit either, and nobody would hear of it.
      letter.mutable_message()->set_type_url(
          packed != nullptr ? packed->type_url()
                            : absl::StrCat(kTypeUrlPrefix, TypeName(*message)));
    } else if (packed != nullptr) {
      *letter.mutable_message() = *packed;  // already packed (unknown type)
    } else {
      letter.mutable_message()->PackFrom(*message);
    }
    notify.process()->SendUser(MakeEnvelope(std::move(letter), ActorRef()));
  }
}

}  // namespace troupe
