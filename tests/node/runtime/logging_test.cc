// Log lines in both formats (logging.h): text as before, and JSON that is
// valid whatever bytes a message carries.
#include "node/runtime/logging.h"

#include <string>

#include "absl/time/civil_time.h"
#include "gtest/gtest.h"

namespace troupe {
namespace {

const absl::Time kAt = absl::FromCivil(absl::CivilSecond(2026, 12, 1, 7, 8, 9),
                                       absl::UTCTimeZone()) +
                       absl::Microseconds(123456);

TEST(LoggingTest, JsonLineHasEveryFieldInOrder) {
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, kAt, LogSeverity::kWarning,
                          "10.0.0.1:7420", "remote",
                          "node 10.0.0.2:7420 is down: it left",
                          {{"peer", "10.0.0.2:7420"}}),
            "{\"time\":\"2026-12-01T07:08:09.123456Z\",\"level\":\"warning\","
            "\"node\":\"10.0.0.1:7420\",\"component\":\"remote\","
            "\"message\":\"node 10.0.0.2:7420 is down: it left\","
            "\"peer\":\"10.0.0.2:7420\"}\n");
}

TEST(LoggingTest, JsonEscapesQuotesControlsAndBadUtf8) {
  const std::string message =
      std::string("say \"hi\"\\ \n\t\x01 caf\xc3\xa9 bad:\xff\xc3(") + '\0' +
      "end";
  EXPECT_EQ(FormatLogLine(LogFormat::kJson, kAt, LogSeverity::kError, "",
                          "runtime", message, {}),
            "{\"time\":\"2026-12-01T07:08:09.123456Z\",\"level\":\"error\","
            "\"node\":\"\",\"component\":\"runtime\",\"message\":"
            "\"say \\\"hi\\\"\\\\ \\n\\t\\u0001 caf\xc3\xa9 bad:\\ufffd\\ufffd("
            "\\u0000end\"}\n");
}

TEST(LoggingTest, TextLineIsTheReadableOneWithoutFields) {
  const std::string line =
      FormatLogLine(LogFormat::kText, kAt, LogSeverity::kInfo, "10.0.0.1:7420",
                    "cluster", "member joined", {{"member", "x"}});
  EXPECT_NE(line.find(" troupe I member joined\n"), std::string::npos) << line;
  EXPECT_EQ(line.find("member\":"), std::string::npos) << line;
}

// A peer's words inside a message (an address, an error it sent) cannot
// start a line of their own, nor move the terminal's cursor.
TEST(LoggingTest, TextLineEscapesControlCharacters) {
  const std::string line =
      FormatLogLine(LogFormat::kText, kAt, LogSeverity::kWarning, "", "remote",
                    "refused node a\nb:1\r\x1b[2J\x7f\tok", {});
  EXPECT_NE(line.find(" troupe W refused node a\\nb:1\\r\\x1b[2J\\x7f\tok\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line: " << line;
  // C1 controls: CSI as UTF-8 (U+009B) and as a raw byte; other UTF-8 kept.
  const std::string c1 =
      FormatLogLine(LogFormat::kText, kAt, LogSeverity::kWarning, "", "remote",
                    "a\xc2\x9b"
                    "2Jb\x9b"
                    "2Jc \xc3\xa9",
                    {});
  EXPECT_NE(c1.find(" a\\u009b2Jb\\x9b2Jc \xc3\xa9\n"), std::string::npos)
      << c1;
}

}  // namespace
}  // namespace troupe
