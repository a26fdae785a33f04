#include "node/runtime/system_messages.h"

namespace troupe {

v1::Pid ToProto(const Pid& pid) {
  v1::Pid proto;
  proto.set_address(pid.address);
  proto.set_id(pid.id);
  proto.set_incarnation(pid.incarnation);
  return proto;
}

Pid FromProto(const v1::Pid& pid) {
  return Pid{pid.address(), pid.id(), pid.incarnation()};
}

Terminated MakeTerminated(const ActorRef& ref, TerminationReason reason) {
  Terminated terminated;
  *terminated.mutable_ref() = ToProto(ref.pid());
  terminated.set_reason(reason);
  return terminated;
}

bool SameActor(const ActorRef& ref, const v1::Pid& pid) {
  return ref && ref.id() == pid.id() && ref.address() == pid.address() &&
         (ref.incarnation() == pid.incarnation() || ref.incarnation() == 0 ||
          pid.incarnation() == 0);
}

}  // namespace troupe
