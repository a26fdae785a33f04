// LinkWriter on an in-memory call: racing producers arrive in order and
// batched, the bound holds, the peer's limits hold, a drain dead-letters
// what is queued (a peer's TERMINATED gets one more attempt), an alias hands
// everything on in order. No gRPC: runs under TSan and ASan in CI.
#include "node/remote/link_writer.h"

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "node/remote/frame_codec.h"
#include "node/runtime/message.h"
#include "node/runtime/sync.h"
#include "tests/node/remote/in_memory_link.h"

namespace troupe {
namespace {

constexpr absl::Duration kWait = absl::Seconds(20);

class PeerActor final : public Process {
 public:
  explicit PeerActor(std::string id)
      : Process(MakeNodeAddress("10.0.0.2:7420"), std::move(id), 9, 1) {}
  void SendUser(EnvelopePtr) override {}
  void SendSystem(SystemMessagePtr) override {}
  bool IsTerminated() const override { return false; }
};

// The writer's link, scripted by the test: what NextStep answers, and what
// came back as dead letters or forwards. Thread-safe.
class ScriptedLink final : public LinkWriter::Link {
 public:
  using Kind = LinkWriter::Step::Kind;

  void Answer(Kind kind, std::shared_ptr<LinkCall> call = nullptr) {
    MutexLock lock(&mu_);
    kind_ = kind;
    call_ = std::move(call);
  }
  // One drain, then `next` (as a link whose RetryNow reconnects).
  void DrainOnceThen(Kind next, std::shared_ptr<LinkCall> call = nullptr) {
    MutexLock lock(&mu_);
    kind_ = Kind::kDrain;
    after_drain_ = next;
    after_drain_call_ = std::move(call);
    drain_once_ = true;
  }
  // The next NextStep answers kBlocked, but, as if the handshake ended on
  // another thread at that moment, the link comes up and kicks the writer
  // before the holder has released the token.
  void ComeUpDuringNextDecision(LinkWriter* writer,
                                std::shared_ptr<LinkCall> call) {
    MutexLock lock(&mu_);
    kind_ = Kind::kBlocked;
    race_writer_ = writer;
    race_call_ = std::move(call);
  }
  void SetClosed(bool closed) {
    MutexLock lock(&mu_);
    closed_ = closed;
  }

  LinkWriter::Step NextStep(bool) override {
    LinkWriter* race = nullptr;
    LinkWriter::Step step;
    {
      MutexLock lock(&mu_);
      if (race_writer_ != nullptr) {
        step.kind = Kind::kBlocked;
        race = std::exchange(race_writer_, nullptr);
        kind_ = Kind::kWrite;
        call_ = std::move(race_call_);
      }
    }
    if (race != nullptr) {
      race->Kick();  // finds the token held: must not be lost
      return step;
    }
    MutexLock lock(&mu_);
    step.kind = kind_;
    step.call = call_;
    step.cause = kNodeUnreachable;
    step.why = "down";
    if (kind_ == Kind::kDrain && drain_once_) {
      drain_once_ = false;
      kind_ = after_drain_;
      call_ = after_drain_call_;
    }
    return step;
  }
  void Forward(std::vector<std::unique_ptr<OutItem>> items) override {
    MutexLock lock(&mu_);
    for (auto& item : items) {
      forwarded_.push_back(std::move(item));
    }
  }
  void DeadLetter(std::shared_ptr<Process>, EnvelopePtr envelope,
                  DeadLetterReason cause, absl::string_view) override {
    MutexLock lock(&mu_);
    ++dead_[cause];
    dead_texts_.emplace_back(TextOf(envelope->message()));
  }
  bool RetryNow() override {
    MutexLock lock(&mu_);
    return !closed_;
  }

  int dead(DeadLetterReason cause) {
    MutexLock lock(&mu_);
    return dead_[cause];
  }
  std::vector<std::unique_ptr<OutItem>> TakeForwarded() {
    MutexLock lock(&mu_);
    return std::move(forwarded_);
  }

 private:
  Mutex mu_;
  Kind kind_ = Kind::kIdle;
  std::shared_ptr<LinkCall> call_;
  LinkWriter* race_writer_ = nullptr;
  std::shared_ptr<LinkCall> race_call_;
  bool drain_once_ = false;
  Kind after_drain_ = Kind::kIdle;
  std::shared_ptr<LinkCall> after_drain_call_;
  bool closed_ = false;
  std::map<DeadLetterReason, int> dead_;
  std::vector<std::string> dead_texts_;
  std::vector<std::unique_ptr<OutItem>> forwarded_;
};

std::unique_ptr<OutItem> UserItem(const std::shared_ptr<Process>& target,
                                  const std::string& text) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kUser);
  item->target = target;
  item->envelope = MakeEnvelope(Text(text), ActorRef());
  return item;
}

std::unique_ptr<OutItem> TerminatedItem(const std::string& id) {
  auto item = std::make_unique<OutItem>(OutItem::Kind::kTerminated);
  item->pid = std::make_unique<v1::Pid>();
  item->pid->set_id(id);
  item->reason = v1::STOPPED;
  return item;
}

// The user messages in `frames`, decoded, in order.
std::vector<std::string> Texts(const std::vector<v1::Frame>& frames) {
  std::vector<std::string> texts;
  for (const v1::Frame& frame : frames) {
    FrameDecoder decoder(frame);
    for (int i = 0; i < decoder.size(); ++i) {
      absl::StatusOr<FrameDecoder::Decoded> decoded = decoder.Decode(i);
      if (decoded.ok() && decoded->control == v1::USER) {
        texts.emplace_back(TextOf(*decoded->message));
      }
    }
  }
  return texts;
}

size_t UserCount(const std::vector<v1::Frame>& frames) {
  size_t count = 0;
  for (const v1::Frame& frame : frames) {
    for (const v1::Envelope& envelope : frame.envelopes()) {
      count += envelope.control() == v1::USER ? 1 : 0;
    }
  }
  return count;
}

// The writer and its in-memory call, wired: the call's completions continue
// the writer.
struct Harness {
  explicit Harness(LinkOptions options = LinkOptions())
      : writer(&link, options, "10.0.0.2:7420", &counters),
        call(std::make_shared<testing::InMemoryCall>(
            [this](bool ok) { writer.OnWriteDone(ok); })) {}
  ~Harness() { EXPECT_TRUE(AwaitFlushed()); }
  bool AwaitFlushed() {
    const absl::Time deadline = absl::Now() + kWait;
    while (!writer.Flushed()) {
      if (absl::Now() > deadline) {
        return false;
      }
      absl::SleepFor(absl::Milliseconds(1));
    }
    return true;
  }
  ScriptedLink link;
  PeerCounters counters;
  LinkWriter writer;
  std::shared_ptr<testing::InMemoryCall> call;
};

TEST(LinkWriterTest, RacingProducersArriveInOrderInBatches) {
  constexpr int kProducers = 4;
  constexpr int kEach = 20'000;
  Harness h;
  h.link.Answer(ScriptedLink::Kind::kWrite, h.call);
  auto target = std::make_shared<PeerActor>("sink");
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        h.writer.Send(UserItem(target, absl::StrCat(p, ":", i)));
      }
    });
  }
  for (std::thread& producer : producers) {
    producer.join();
  }
  ASSERT_TRUE(h.call->AwaitFrames(
      [](const std::vector<v1::Frame>& frames) {
        return UserCount(frames) == size_t{kProducers * kEach};
      },
      kWait));
  std::vector<int> next(kProducers, 0);
  for (const std::string& text : Texts(h.call->frames())) {
    std::vector<std::string> parts = absl::StrSplit(text, ':');
    int p = 0, i = 0;
    ASSERT_TRUE(absl::SimpleAtoi(parts[0], &p) &&
                absl::SimpleAtoi(parts[1], &i));
    ASSERT_EQ(i, next[p]) << "producer " << p << " out of order";
    ++next[p];
  }
  const PeerCounters& counters = h.counters;
  EXPECT_EQ(counters.messages_sent, uint64_t{kProducers * kEach});
  EXPECT_EQ(counters.frames_sent, h.call->frames().size());
  EXPECT_LT(counters.frames_sent, counters.messages_sent)
      << "sends made during a write are batched into the next frame";
  uint64_t bytes = 0;
  for (const v1::Frame& frame : h.call->frames()) {
    bytes += frame.ByteSizeLong();
  }
  EXPECT_EQ(counters.bytes_sent, bytes);
  EXPECT_EQ(counters.dropped, 0u);
}

TEST(LinkWriterTest, BeyondTheBoundUserMessagesAreCountedDeadLetters) {
  LinkOptions options;
  options.queue_capacity = 10;
  Harness h(options);
  h.link.Answer(ScriptedLink::Kind::kBlocked);  // a handshake under way
  auto target = std::make_shared<PeerActor>("sink");
  for (int i = 0; i < 15; ++i) {
    h.writer.Send(UserItem(target, absl::StrCat(i)));
  }
  EXPECT_EQ(h.link.dead(kLinkQueueFull), 5);
  EXPECT_EQ(h.counters.overflows, 5u);
  EXPECT_FALSE(h.writer.Flushed());
  h.link.Answer(ScriptedLink::Kind::kWrite, h.call);
  h.writer.Kick();  // the handshake is done
  ASSERT_TRUE(h.call->AwaitFrames(
      [](const std::vector<v1::Frame>& frames) {
        return UserCount(frames) == 10;
      },
      kWait));
}

TEST(LinkWriterTest, AKickWhileTheHolderDecidesBlockedIsNotLost) {
  Harness h;
  auto target = std::make_shared<PeerActor>("sink");
  h.link.Answer(ScriptedLink::Kind::kBlocked);
  h.writer.Send(UserItem(target, "queued during the handshake"));
  h.link.ComeUpDuringNextDecision(&h.writer, h.call);
  h.writer.Kick();
  // Nothing else kicks: the message goes only if the holder saw the kick.
  EXPECT_TRUE(h.call->AwaitFrames(
      [](const std::vector<v1::Frame>& frames) {
        return UserCount(frames) == 1;
      },
      absl::Seconds(5)));
}

TEST(LinkWriterTest, AMessageTooLargeForThePeerIsADeadLetterTheRestGoes) {
  Harness h;
  h.writer.SetPeerLimits(/*max_message_bytes=*/100, /*max_frame_bytes=*/0);
  auto target = std::make_shared<PeerActor>("sink");
  h.link.Answer(ScriptedLink::Kind::kBlocked);
  h.writer.Send(UserItem(target, "before"));
  h.writer.Send(UserItem(target, std::string(500, 'x')));
  h.writer.Send(UserItem(target, "after"));
  h.link.Answer(ScriptedLink::Kind::kWrite, h.call);
  h.writer.Kick();
  ASSERT_TRUE(h.call->AwaitFrames(
      [](const std::vector<v1::Frame>& frames) {
        return UserCount(frames) == 2;
      },
      kWait));
  EXPECT_EQ(Texts(h.call->frames()),
            (std::vector<std::string>{"before", "after"}));
  EXPECT_EQ(h.link.dead(kTooLarge), 1);
}

TEST(LinkWriterTest, ADrainDeadLettersMessagesAndRetriesATerminatedOnce) {
  Harness h;
  auto target = std::make_shared<PeerActor>("sink");
  h.link.Answer(ScriptedLink::Kind::kBlocked);
  h.writer.Send(UserItem(target, "lost"));
  h.writer.Send(TerminatedItem("watched"));
  // The link went down: drained; the TERMINATED is kept for one attempt,
  // which meets a link that is up again: it goes.
  h.link.DrainOnceThen(ScriptedLink::Kind::kWrite, h.call);
  h.writer.Kick();
  EXPECT_EQ(h.link.dead(kNodeUnreachable), 1);
  ASSERT_TRUE(h.call->AwaitFrames(
      [](const std::vector<v1::Frame>& frames) {
        return !frames.empty() && frames.back().envelopes_size() == 1 &&
               frames.back().envelopes(0).control() == v1::TERMINATED;
      },
      kWait));
  ASSERT_TRUE(h.AwaitFlushed());
  // On a link that stays down, a TERMINATED is tried once more, then
  // dropped; on a closed link, at once.
  h.link.Answer(ScriptedLink::Kind::kBlocked);
  h.writer.Send(TerminatedItem("other"));
  h.link.Answer(ScriptedLink::Kind::kDrain);
  h.writer.Kick();
  EXPECT_TRUE(h.writer.Flushed());
  h.link.Answer(ScriptedLink::Kind::kBlocked);
  h.writer.Send(TerminatedItem("third"));
  h.link.SetClosed(true);
  h.link.Answer(ScriptedLink::Kind::kDrain);
  h.writer.Kick();
  EXPECT_TRUE(h.writer.Flushed());
  EXPECT_EQ(h.call->frames().size(), 1u) << "only the first TERMINATED went";
}

TEST(LinkWriterTest, AnAliasHandsEverythingOnInOrder) {
  Harness h;
  auto target = std::make_shared<PeerActor>("sink");
  h.link.Answer(ScriptedLink::Kind::kBlocked);
  h.writer.Send(UserItem(target, "1"));
  h.writer.Send(TerminatedItem("w"));
  h.writer.Send(UserItem(target, "2"));
  h.link.Answer(ScriptedLink::Kind::kForward);
  h.writer.Kick();
  std::vector<std::unique_ptr<OutItem>> forwarded = h.link.TakeForwarded();
  ASSERT_EQ(forwarded.size(), 3u);
  EXPECT_EQ(TextOf(forwarded[0]->envelope->message()), "1");
  EXPECT_EQ(forwarded[1]->kind, OutItem::Kind::kTerminated);
  EXPECT_EQ(TextOf(forwarded[2]->envelope->message()), "2");
  EXPECT_TRUE(h.writer.Flushed());
}

// A call breaks in one of two ways: it refuses the write (Write returns 0,
// the call having ended), or gRPC takes the write (StartWrite) and then
// reports it failed. Either way the frame's messages were never handed on,
// so each is a counted dead letter, never counted as sent and forgotten.
TEST(LinkWriterTest, WhatABrokenCallDidNotWriteBecomesDeadLetters) {
  for (const bool accepts : {false, true}) {
    SCOPED_TRACE(accepts ? "fails after accepting" : "refuses");
    Harness h;
    auto target = std::make_shared<PeerActor>("sink");
    if (accepts) {
      h.call->BreakAfterAccepting();
    } else {
      h.call->Cancel();
    }
    h.link.Answer(ScriptedLink::Kind::kBlocked);
    h.writer.Send(UserItem(target, "a"));
    h.writer.Send(UserItem(target, "b"));
    h.writer.Send(TerminatedItem("gone"));
    h.link.Answer(ScriptedLink::Kind::kWrite, h.call);
    h.writer.Kick();
    ASSERT_TRUE(h.AwaitFlushed());
    const std::vector<std::string> written =
        accepts ? std::vector<std::string>{"a", "b"}
                : std::vector<std::string>();
    EXPECT_EQ(Texts(h.call->frames()), written);
    EXPECT_EQ(h.link.dead(kLinkClosed), 2);
    EXPECT_EQ(h.counters.dropped.load(), 2u);
  }
}

}  // namespace
}  // namespace troupe
