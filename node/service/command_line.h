// Command-line parsing shared by troupe's binaries: abseil flags with a
// --help that lists troupe's own flags and a --version that prints troupe's.
#pragma once

#include <string>
#include <vector>

namespace troupe {

// Sets `usage` as the program's usage text, parses argc/argv (exits with a
// message on an unknown or malformed flag, and on --help/--version), and
// returns the positional arguments after the program name. Call once, first
// thing in main.
std::vector<std::string> ParseCommandLine(const char* usage, int argc,
                                          char** argv);

}  // namespace troupe
