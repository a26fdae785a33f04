// Registry ids, and lookups of generated and named actors through the system.
#include "node/runtime/registry.h"

#include "gtest/gtest.h"
#include "node/runtime/actor_system.h"
#include "tests/node/runtime/test_actors.h"

namespace troupe {
namespace {

using testing::Echo;
using testing::kWait;

TEST(RegistryTest, SerialIdsRoundTrip) {
  for (uint64_t serial : {uint64_t{1}, uint64_t{35}, uint64_t{36},
                          uint64_t{1234567}, UINT64_MAX}) {
    const std::string id = Registry::SerialId(serial);
    EXPECT_EQ(id[0], '$');
    EXPECT_EQ(Registry::ParseSerialId(id), serial) << id;
  }
  EXPECT_EQ(Registry::SerialId(36), "$10");
}

TEST(RegistryTest, OtherIdsAreNotSerials) {
  for (const char* id : {"", "$", "Mike", "$00", "$0", "$A", "$1/child",
                         "$zzzzzzzzzzzzzz", "x$1"}) {
    EXPECT_FALSE(Registry::ParseSerialId(id).has_value()) << id;
  }
}

TEST(RegistryTest, GeneratedNamedAndChildActorsAreFoundAndForgotten) {
  ActorSystem system;
  auto anonymous = system.Spawn(Echo());
  auto named = system.Spawn(Echo(), "named");
  ASSERT_TRUE(anonymous.ok() && named.ok());
  auto parent =
      system.Spawn(testing::Lambda([](ActorContext& ctx, const Message&) {
                     auto child = ctx.Spawn(Echo());
                     if (child.ok()) {
                       ctx.Reply(Text(child->id()));
                     }
                     return child.status();
                   }),
                   "parent");
  ASSERT_TRUE(parent.ok());
  auto child_id = system.Ask(*parent, "spawn", kWait).get();
  ASSERT_TRUE(child_id.ok()) << child_id.status();
  const std::string child(TextOf(**child_id));
  EXPECT_EQ(child.rfind("parent/$", 0), 0u) << child;

  for (const std::string& id : {anonymous->id(), std::string("named"), child}) {
    auto found = system.Lookup(id);
    ASSERT_TRUE(found.ok()) << id << ": " << found.status();
    EXPECT_EQ(found->id(), id);
  }
  testing::StopAndAwait(system, *anonymous);
  testing::StopAndAwait(system, *named);
  EXPECT_EQ(system.Lookup(anonymous->id()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(system.Lookup("named").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(system.Lookup(child).ok());
}

}  // namespace
}  // namespace troupe
