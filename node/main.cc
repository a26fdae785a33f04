// troupe_node: the stock node binary, with the stock kinds (echo, counter,
// kv, topic). See node/service/node_main.h to build one with your own.
#include "node/service/node_main.h"

int main(int argc, char** argv) { return troupe::NodeMain(argc, argv); }
