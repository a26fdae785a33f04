// greeter_node: troupe_node's program with the Greeter kind linked in. It
// serves troupe.examples.Greeter on its port, beside ActorService.
#include "node/service/node_main.h"

int main(int argc, char** argv) { return troupe::NodeMain(argc, argv); }
