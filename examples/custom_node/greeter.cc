// A user-defined kind: "greeter", registered with one line. Linked into a
// node binary (see BUILD.bazel), it can be spawned by name from any client:
//   troupectl spawn greeter g --init_type=google.protobuf.StringValue --init='"Hi"'
//   troupectl ask troupe://HOST:PORT/g google.protobuf.StringValue '"Ada"'
#include <string>

#include "absl/strings/str_cat.h"
#include "node/runtime/actor_context.h"
#include "node/service/kinds.h"

namespace {

// Answers a name (StringValue) with "<greeting>, <name>!".
class Greeter final : public troupe::Actor {
 public:
  explicit Greeter(std::string greeting) : greeting_(std::move(greeting)) {}

  absl::Status Receive(troupe::ActorContext& ctx,
                       const troupe::Message& message) override {
    if (const auto* name = troupe::As<google::protobuf::StringValue>(message)) {
      ctx.Reply(troupe::Text(absl::StrCat(greeting_, ", ", name->value(), "!")));
    }
    return absl::OkStatus();
  }

 private:
  const std::string greeting_;
};

absl::StatusOr<troupe::ActorFactory> MakeGreeter(
    const google::protobuf::Any* init) {
  auto greeting = troupe::InitAs<google::protobuf::StringValue>("greeter", init);
  if (!greeting.ok()) {
    return greeting.status();
  }
  std::string text = greeting->value().empty() ? "Hello" : greeting->value();
  return troupe::ActorFactory(
      [text] { return std::make_unique<Greeter>(text); });
}

}  // namespace

TROUPE_REGISTER_KIND("greeter",
                     "init StringValue (the greeting, default Hello); a "
                     "StringValue name is answered with '<greeting>, <name>!'",
                     MakeGreeter);
