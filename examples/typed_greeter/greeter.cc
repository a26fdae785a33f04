#include "examples/typed_greeter/greeter.h"

#include "absl/strings/str_cat.h"

namespace troupe::examples {

HelloReply Greeter::Next(ActorContext& ctx, const std::string& name) {
  HelloReply reply;
  reply.set_message(absl::StrCat("Hello, ", name, "!"));
  reply.set_greeter(ctx.Self().ToString());
  reply.set_count(++count_);
  return reply;
}

void Greeter::Greet(ActorContext& ctx, const HelloRequest& request,
                    Responder<HelloReply> reply) {
  if (request.name().empty()) {
    reply.Fail(absl::InvalidArgumentError("whom should I greet? (name)"));
    return;
  }
  reply.Send(Next(ctx, request.name()));
}

void Greeter::GreetMany(ActorContext& ctx, const GreetManyRequest& request,
                        ServerStream<HelloReply> stream) {
  if (request.times() < 0 || request.times() > kMaxTimes) {
    stream.Close(absl::InvalidArgumentError(
        absl::StrCat("times must be 0 to ", kMaxTimes)));
    return;
  }
  for (int i = 0; i < request.times(); ++i) {
    if (!stream.Send(Next(ctx, request.name()))) {
      return;  // the caller has gone
    }
  }
  stream.Close();
}

TROUPE_REGISTER_ACTOR_KIND(GreeterActor::KindOf<Greeter>("greeter"));

}  // namespace troupe::examples
