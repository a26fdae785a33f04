// The kinds every stock troupe_node ships: echo, counter, kv and topic (their
// messages are in proto/kinds.proto).
#include <cstdint>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "node/runtime/actor_context.h"
#include "node/runtime/actor_system.h"
#include "node/runtime/system_messages.h"
#include "node/service/kinds.h"
#include "proto/kinds.pb.h"
#include "proto/kinds.troupe.h"

namespace troupe {
namespace {

// Replies to every message that has a sender with a copy of it. The
// runtime's notices (a DeadLetter of one of its replies, a Terminated) are
// not echoed: that would only bounce them around.
class Echo final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    if (ctx.Sender() && !Is<DeadLetter>(message) && !Is<Terminated>(message)) {
      ctx.Reply(CloneMessage(message));
    }
    return absl::OkStatus();
  }
};

// A typed actor (troupe.v1.Counter); its messages sent plainly get the
// same answers, to their sender.
class Counter final : public v1::CounterActor {
 public:
  explicit Counter(int64_t start) : value_(start) {}

  void Add(ActorContext& /*ctx*/, const v1::CounterAdd& add,
           Responder<google::protobuf::Int64Value> reply) override {
    value_ += add.delta();
    reply.Send(Value());
  }
  void Get(ActorContext& /*ctx*/, const v1::CounterGet& /*get*/,
           Responder<google::protobuf::Int64Value> reply) override {
    reply.Send(Value());
  }
  absl::Status ReceiveOther(ActorContext& ctx,
                            const Message& message) override {
    if (const auto* add = As<v1::CounterAdd>(message)) {
      value_ += add->delta();
    } else if (!Is<v1::CounterGet>(message)) {
      return absl::OkStatus();  // not a counter message: ignored
    }
    ctx.Reply(Value());
    return absl::OkStatus();
  }

 private:
  google::protobuf::Int64Value Value() const {
    google::protobuf::Int64Value value;
    value.set_value(value_);
    return value;
  }

  int64_t value_;
};

// A typed actor (troupe.v1.Kv); its messages sent plainly get the same
// answers, to their sender.
class KeyValueStore final : public v1::KvActor {
 public:
  void Put(ActorContext& /*ctx*/, const v1::KvPut& put,
           Responder<v1::KvValue> reply) override {
    reply.Send(Apply(put));
  }
  void Get(ActorContext& /*ctx*/, const v1::KvGet& get,
           Responder<v1::KvValue> reply) override {
    reply.Send(Apply(get));
  }
  void Delete(ActorContext& /*ctx*/, const v1::KvDelete& remove,
              Responder<v1::KvValue> reply) override {
    reply.Send(Apply(remove));
  }
  absl::Status ReceiveOther(ActorContext& ctx,
                            const Message& message) override {
    if (Is<v1::KvPut>(message) || Is<v1::KvGet>(message) ||
        Is<v1::KvDelete>(message)) {
      ctx.Reply(Apply(message));
    }
    return absl::OkStatus();
  }

 private:
  // Runs a KvPut, KvGet or KvDelete; what it answers.
  v1::KvValue Apply(const Message& message) {
    v1::KvValue reply;
    if (const auto* put = As<v1::KvPut>(message)) {
      reply = Take(put->key());
      entries_[put->key()] = put->value();
    } else if (const auto* get = As<v1::KvGet>(message)) {
      reply.set_key(get->key());
      if (auto it = entries_.find(get->key()); it != entries_.end()) {
        reply.set_found(true);
        *reply.mutable_value() = it->second;
      }
    } else if (const auto* remove = As<v1::KvDelete>(message)) {
      reply = Take(remove->key());
    }
    return reply;
  }

  // Removes `key`, returning what it held.
  v1::KvValue Take(const std::string& key) {
    v1::KvValue taken;
    taken.set_key(key);
    if (auto it = entries_.find(key); it != entries_.end()) {
      taken.set_found(true);
      *taken.mutable_value() = std::move(it->second);
      entries_.erase(it);
    }
    return taken;
  }

  absl::flat_hash_map<std::string, google::protobuf::Any> entries_;
};

// Publish-subscribe: subscribers are refs, watched so that the ones that
// terminate are dropped.
class Topic final : public Actor {
 public:
  absl::Status Receive(ActorContext& ctx, const Message& message) override {
    int delivered = 0;
    if (const auto* subscribe = As<v1::Subscribe>(message)) {
      const ActorRef who =
          Subscriber(ctx, subscribe->has_subscriber(), subscribe->subscriber());
      if (who && subscribers_.insert(who).second) {
        ctx.Watch(who);
      }
    } else if (const auto* unsubscribe = As<v1::Unsubscribe>(message)) {
      const ActorRef who = Subscriber(ctx, unsubscribe->has_subscriber(),
                                      unsubscribe->subscriber());
      if (subscribers_.erase(who) > 0) {
        ctx.Unwatch(who);
      }
    } else if (const auto* publish = As<v1::Publish>(message)) {
      // Kept as the Any when this node does not link its type.
      absl::StatusOr<MessagePtr> unpacked = UnpackAny(publish->message());
      const Message& payload =
          unpacked.ok() ? **unpacked
                        : static_cast<const Message&>(publish->message());
      for (const ActorRef& subscriber : subscribers_) {
        ctx.Tell(subscriber, CloneMessage(payload));
        ++delivered;
      }
    } else if (const auto* terminated = As<Terminated>(message)) {
      subscribers_.erase(ctx.System().Resolve(FromProto(terminated->ref())));
      return absl::OkStatus();
    } else {
      return absl::OkStatus();
    }
    v1::TopicInfo info;
    info.set_subscribers(static_cast<int32_t>(subscribers_.size()));
    info.set_delivered(delivered);
    ctx.Reply(std::move(info));
    return absl::OkStatus();
  }

 private:
  static ActorRef Subscriber(ActorContext& ctx, bool named,
                             const v1::Pid& pid) {
    return named ? ctx.System().Resolve(FromProto(pid)) : ctx.Sender();
  }

  absl::flat_hash_set<ActorRef> subscribers_;
};

absl::StatusOr<ActorFactory> MakeCounter(const google::protobuf::Any* init) {
  absl::StatusOr<google::protobuf::Int64Value> start =
      InitAs<google::protobuf::Int64Value>("counter", init);
  if (!start.ok()) {
    return start.status();
  }
  const int64_t value = start->value();
  return ActorFactory(
      [value] { return std::unique_ptr<Actor>(new Counter(value)); });
}

}  // namespace

TROUPE_REGISTER_KIND("echo", "replies to every message with a copy of it",
                     NoInit<Echo>("echo"));
TROUPE_REGISTER_ACTOR_KIND([] {
  Kind kind = v1::CounterActor::KindOf("counter", MakeCounter);
  kind.description =
      "init Int64Value (start, default 0); CounterAdd{delta} and CounterGet "
      "reply with the value as an Int64Value; serves troupe.v1.Counter";
  return kind;
}());
TROUPE_REGISTER_ACTOR_KIND([] {
  Kind kind = v1::KvActor::KindOf<KeyValueStore>("kv");
  kind.description =
      "a key-value store; KvPut{key, value Any}, KvGet{key}, KvDelete{key} "
      "reply with a KvValue; serves troupe.v1.Kv";
  return kind;
}());
TROUPE_REGISTER_KIND(
    "topic",
    "publish-subscribe; Subscribe{subscriber}, Unsubscribe{subscriber}, "
    "Publish{message Any} (sent to every subscriber) reply with a TopicInfo; "
    "subscribers that terminate are dropped",
    NoInit<Topic>("topic"));

}  // namespace troupe
