// The troupe_node program as a function, so a user's own node binary (with
// its own kinds registered) is one line of main:
//
//   #include "node/service/node_main.h"
//   int main(int argc, char** argv) { return troupe::NodeMain(argc, argv); }
//
// linked with the library that registers the kinds (alwayslink) and, for
// echo/counter/kv/topic too, //node/service:stock_kinds.
#pragma once

namespace troupe {

// Parses the flags (see --help), runs a NodeServer until SIGINT/SIGTERM or
// --run_for, shuts it down gracefully, and returns the exit code: 0 after a
// clean stop, 1 when the node cannot start, 2 for bad flags.
int NodeMain(int argc, char** argv);

}  // namespace troupe
