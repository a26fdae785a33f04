// The Greeter actor (greeter.proto), registered as the kind "greeter" in
// greeter_node.
#pragma once

#include "examples/typed_greeter/greeter.troupe.h"

namespace troupe::examples {

// Greets in its own words, counting its greetings. GreetMany gives at most
// kMaxTimes greetings (INVALID_ARGUMENT beyond): a client cannot make it
// work without end.
class Greeter final : public GreeterActor {
 public:
  static constexpr int kMaxTimes = 100;

  void Greet(ActorContext& ctx, const HelloRequest& request,
             Responder<HelloReply> reply) override;
  void GreetMany(ActorContext& ctx, const GreetManyRequest& request,
                 ServerStream<HelloReply> stream) override;

 private:
  HelloReply Next(ActorContext& ctx, const std::string& name);

  int count_ = 0;
};

}  // namespace troupe::examples
