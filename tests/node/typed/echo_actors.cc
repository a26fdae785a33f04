#include "tests/node/typed/echo_actors.h"

namespace troupe::testing {

TROUPE_REGISTER_ACTOR_KIND(test::EchoActor::KindOf<EchoImpl>(kTypedEchoKind));

}  // namespace troupe::testing
