#include "node/remote/frame_codec.h"

#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "node/runtime/logging.h"
#include "node/runtime/sync.h"
#include "node/runtime/system_messages.h"

namespace troupe {
namespace {

// Bytes an envelope's fields other than its payload take, about.
constexpr size_t kEnvelopeOverhead = 16;

}  // namespace

void FrameEncoder::Clear() {
  frame_.Clear();
  refs_.clear();
  types_.clear();
  methods_.clear();
  bytes_ = 0;
  control_ = false;
}

void FrameEncoder::SetPeerLimits(size_t max_message_bytes,
                                 size_t max_frame_bytes) {
  message_limit_ = options_.max_message_bytes;
  peer_limits_ = false;
  if (max_message_bytes != 0 && max_message_bytes < message_limit_) {
    message_limit_ = max_message_bytes;
    peer_limits_ = true;
  }
  // A frame is cut once it reaches batch_limit_, so it can hold one more
  // message and the frame's own framing past it (MaxFrameBytes allows the
  // same margin).
  batch_limit_ = options_.max_batch_bytes;
  const size_t margin = message_limit_ + (64 << 10);
  if (max_frame_bytes != 0 && batch_limit_ + margin > max_frame_bytes) {
    batch_limit_ =
        max_frame_bytes > margin + 1024 ? max_frame_bytes - margin : 1024;
  }
}

uint32_t FrameEncoder::RefIndex(const Process& process) {
  auto [it, added] = refs_.try_emplace(&process, 0);
  if (added) {
    v1::Pid* pid = frame_.add_refs();
    pid->set_address(process.address());
    pid->set_id(process.id());
    pid->set_incarnation(process.incarnation());
    pid->set_uid(process.uid());
    it->second = static_cast<uint32_t>(frame_.refs_size());
    bytes_ += process.address().size() + process.id().size() + 16;
  }
  return it->second;
}

template <typename Descriptor>
uint32_t FrameEncoder::NameIndex(
    absl::flat_hash_map<const Descriptor*, uint32_t>& named,
    const Descriptor* descriptor) {
  auto [it, added] = named.try_emplace(descriptor, 0);
  if (added) {
    frame_.add_types(descriptor->full_name());
    it->second = static_cast<uint32_t>(frame_.types_size());
    bytes_ += descriptor->full_name().size() + 4;
  }
  return it->second;
}

v1::Envelope* FrameEncoder::NewEnvelope(v1::Control control, uint32_t ref) {
  v1::Envelope* envelope = frame_.add_envelopes();
  envelope->set_ref(ref);
  if (control != v1::USER) {
    envelope->set_control(control);
  }
  bytes_ += kEnvelopeOverhead;
  return envelope;
}

absl::Status FrameEncoder::AddUser(const Process& target,
                                   const Envelope& envelope) {
  const Message& message = envelope.message();
  const size_t size = message.ByteSizeLong();
  if (size > message_limit_) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "a ", TypeName(message), " of ", size, " bytes exceeds ",
        peer_limits_ ? "the receiving node's" : "this node's",
        " message limit of ", message_limit_, " bytes (--max_message_bytes)"));
  }
  const uint32_t ref = RefIndex(target);
  const uint32_t sender =
      envelope.sender ? RefIndex(*envelope.sender.process()) : 0;
  const uint32_t type = NameIndex(types_, message.GetDescriptor());
  v1::Envelope* out = NewEnvelope(v1::USER, ref);
  if (sender != 0) {
    out->set_sender(sender);
  }
  out->set_type(type);
  if (envelope.method != nullptr) {
    out->set_method(NameIndex(methods_, envelope.method));
  }
  if (envelope.answer) {
    out->set_answer(true);
  }
  std::string* payload = out->mutable_payload();
  payload->resize(size);
  message.SerializeWithCachedSizesToArray(
      reinterpret_cast<uint8_t*>(payload->data()));
  bytes_ += size;
  return absl::OkStatus();
}

void FrameEncoder::AddControl(v1::Control control, const Process& target) {
  NewEnvelope(control, RefIndex(target));
}

void FrameEncoder::AddTerminated(const v1::Pid& pid,
                                 v1::TerminationReason reason) {
  AddNamed(v1::TERMINATED, pid);
  frame_.mutable_envelopes()->rbegin()->set_reason(reason);
}

void FrameEncoder::AddNamed(v1::Control control, const v1::Pid& pid) {
  *frame_.add_refs() = pid;
  bytes_ += pid.address().size() + pid.id().size() + 24;
  NewEnvelope(control, static_cast<uint32_t>(frame_.refs_size()));
}

void FrameEncoder::SetHello(const v1::Hello& hello) {
  *frame_.mutable_hello() = hello;
  control_ = true;
}

void FrameEncoder::SetLeave() {
  frame_.set_leave(true);
  control_ = true;
}

void FrameEncoder::SetHeartbeat() {
  frame_.set_heartbeat(true);
  control_ = true;
}

FrameDecoder::FrameDecoder(const v1::Frame& frame)
    : frame_(frame),
      prototypes_(frame.types_size()),
      looked_up_(frame.types_size()),
      methods_(frame.types_size()),
      methods_looked_up_(frame.types_size()) {}

absl::StatusOr<FrameDecoder::Decoded> FrameDecoder::Decode(int i) {
  const v1::Envelope& envelope = frame_.envelopes(i);
  const uint32_t refs = static_cast<uint32_t>(frame_.refs_size());
  Decoded decoded;
  decoded.control = envelope.control();
  decoded.target_index = envelope.ref();
  if (decoded.target_index == 0 || decoded.target_index > refs) {
    return absl::InvalidArgumentError(absl::StrCat("an envelope names ref ",
                                                   decoded.target_index,
                                                   " of a frame with ", refs));
  }
  decoded.target = &frame_.refs(decoded.target_index - 1);
  decoded.reason = envelope.reason();
  if (decoded.control != v1::USER) {
    return decoded;
  }
  if (const uint32_t s = envelope.sender(); s != 0 && s <= refs) {
    decoded.sender_index = s;
    decoded.sender = &frame_.refs(s - 1);
  }
  const uint32_t type = envelope.type();
  if (type == 0 || type > static_cast<uint32_t>(frame_.types_size())) {
    return absl::InvalidArgumentError(absl::StrCat("a message names type ",
                                                   type, " of a frame with ",
                                                   frame_.types_size()));
  }
  const std::string& type_name = frame_.types(type - 1);
  decoded.answer = envelope.answer();
  if (const uint32_t method = envelope.method(); method != 0) {
    if (method > static_cast<uint32_t>(frame_.types_size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("a message names method ", method, " of a frame with ",
                       frame_.types_size(), " names"));
    }
    if (!methods_looked_up_[method - 1]) {
      methods_looked_up_[method - 1] = true;
      methods_[method - 1] =
          google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
              frame_.types(method - 1));
    }
    decoded.method = methods_[method - 1];
    if (decoded.method == nullptr) {
      decoded.problem =
          absl::StrCat("service method '", frame_.types(method - 1),
                       "' is not linked into this node");
    }
  }
  if (!looked_up_[type - 1]) {
    looked_up_[type - 1] = true;
    prototypes_[type - 1] = FindPrototype(type_name);
  }
  if (const Message* prototype = prototypes_[type - 1]) {
    decoded.message.reset(prototype->New());
    if (decoded.message->ParseFromString(envelope.payload())) {
      if (decoded.problem.empty()) {
        return decoded;
      }
    } else {
      decoded.problem = absl::StrCat("payload does not parse as ", type_name);
    }
  } else {
    decoded.problem = absl::StrCat("message type '", type_name,
                                   "' is not linked into this node");
  }
  // Kept as an Any, so a dead letter still says what it was.
  auto any = std::make_unique<google::protobuf::Any>();
  any->set_type_url(absl::StrCat(kTypeUrlPrefix, type_name));
  any->set_value(envelope.payload());
  decoded.message = std::move(any);
  return decoded;
}

namespace {

void RateLimitedProtobufLog(google::protobuf::LogLevel level,
                            const char* /*file*/, int /*line*/,
                            const std::string& message) {
  if (level == google::protobuf::LOGLEVEL_FATAL) {
    Log(LogSeverity::kError, "remote", absl::StrCat("protobuf: ", message));
    return;
  }
  static LogLimiter* const limiter =
      new LogLimiter("remote", 1, absl::Seconds(1));
  limiter->Log(LogSeverity::kWarning, absl::StrCat("protobuf: ", message));
}

}  // namespace

void LimitProtobufLogs() {
  static const bool installed = [] {
    google::protobuf::SetLogHandler(&RateLimitedProtobufLog);
    return true;
  }();
  (void)installed;
}

}  // namespace troupe
