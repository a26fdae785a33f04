// The generated wire types build and behave as protobuf messages, including
// the well-known types troupe carries messages in.
#include <string>

#include "google/protobuf/any.pb.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "proto/troupe.pb.h"

namespace troupe::v1 {
namespace {

TEST(PidTest, RoundTripsThroughTheWire) {
  Pid pid;
  pid.set_address("10.0.0.7:7420");
  pid.set_id("Mike");
  pid.set_incarnation(0xfeedfacecafebeefULL);

  std::string bytes;
  ASSERT_TRUE(pid.SerializeToString(&bytes));
  Pid parsed;
  ASSERT_TRUE(parsed.ParseFromString(bytes));
  EXPECT_EQ(parsed.address(), "10.0.0.7:7420");
  EXPECT_EQ(parsed.id(), "Mike");
  EXPECT_EQ(parsed.incarnation(), 0xfeedfacecafebeefULL);
}

TEST(PidTest, TravelsInsideAnAny) {
  Pid pid;
  pid.set_id("Sarah");
  google::protobuf::Any any;
  any.PackFrom(pid);
  EXPECT_EQ(any.type_url(), "type.googleapis.com/troupe.v1.Pid");
  EXPECT_TRUE(any.Is<Pid>());
  EXPECT_FALSE(any.Is<google::protobuf::StringValue>());
  Pid unpacked;
  ASSERT_TRUE(any.UnpackTo(&unpacked));
  EXPECT_EQ(unpacked.id(), "Sarah");
}

TEST(PidTest, RejectsGarbage) {
  Pid pid;
  EXPECT_FALSE(pid.ParseFromString(std::string("\xff\xff\xff\xff", 4)));
}

}  // namespace
}  // namespace troupe::v1
