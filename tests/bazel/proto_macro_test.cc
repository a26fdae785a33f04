// troupe_proto_library from a package other than proto/: imports of troupe's
// own protos and of well-known types resolve, and the gRPC library builds.
#include <string>

#include "google/protobuf/any.pb.h"
#include "gtest/gtest.h"
#include "proto/troupe.pb.h"
#include "tests/bazel/sample.grpc.pb.h"
#include "tests/bazel/sample.pb.h"

namespace troupe::v1 {
namespace {

TEST(ProtoMacroTest, ImportsResolveAcrossPackagesAndWellKnownTypes) {
  troupe::test::Sample sample;
  sample.mutable_pid()->set_id("Mike");
  sample.mutable_text()->set_value("ping!");
  sample.mutable_after()->set_seconds(1);

  std::string bytes;
  ASSERT_TRUE(sample.SerializeToString(&bytes));
  troupe::test::Sample parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.pid().id(), "Mike");
  EXPECT_EQ(parsed.text().value(), "ping!");
  EXPECT_EQ(parsed.after().seconds(), 1);
  EXPECT_STREQ(troupe::test::SampleService::service_full_name(),
               "troupe.test.SampleService");
}

TEST(ProtoMacroTest, DeadLetterCarriesAnyMessage) {
  troupe::test::Sample sample;
  sample.mutable_text()->set_value("lost");
  DeadLetter letter;
  letter.mutable_target()->set_id("gone");
  letter.mutable_message()->PackFrom(sample);

  DeadLetter parsed;
  ASSERT_TRUE(parsed.ParseFromString(letter.SerializeAsString()));
  ASSERT_TRUE(parsed.message().Is<troupe::test::Sample>());
  troupe::test::Sample unpacked;
  ASSERT_TRUE(parsed.message().UnpackTo(&unpacked));
  EXPECT_EQ(unpacked.text().value(), "lost");
}

}  // namespace
}  // namespace troupe::v1
