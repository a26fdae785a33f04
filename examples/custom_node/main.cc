// A user's own node binary: troupe_node's program with the kinds linked in
// (the stock ones and "greeter", see BUILD.bazel).
#include "node/service/node_main.h"

int main(int argc, char** argv) { return troupe::NodeMain(argc, argv); }
