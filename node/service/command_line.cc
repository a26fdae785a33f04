#include "node/service/command_line.h"

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "node/runtime/version.h"

namespace troupe {
namespace {

// abseil's --help shows only flags defined in a file named after the binary;
// troupe's flags live in main.cc and in the libraries a binary links, so show
// every flag that is not abseil's own.
bool IsTroupeFlagFile(absl::string_view file) {
  return !absl::StrContains(file, "absl/");
}

}  // namespace

std::vector<std::string> ParseCommandLine(const char* usage, int argc,
                                          char** argv) {
  absl::FlagsUsageConfig config;
  config.contains_help_flags = &IsTroupeFlagFile;
  config.contains_helpshort_flags = &IsTroupeFlagFile;
  config.version_string = [] {
    return absl::StrCat("troupe ", kTroupeVersion, "\n");
  };
  absl::SetFlagsUsageConfig(config);
  absl::SetProgramUsageMessage(usage);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  return std::vector<std::string>(positional.begin() + 1, positional.end());
}

}  // namespace troupe
