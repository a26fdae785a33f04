#include "node/typed/typed_call.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "node/runtime/logging.h"

namespace troupe {

const ServiceDescriptor* FindService(absl::string_view full_name) {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      std::string(full_name));
}

v1::CallStatus ToCallStatus(const absl::Status& status) {
  v1::CallStatus out;
  out.set_code(static_cast<int32_t>(status.code()));
  out.set_message(std::string(status.message()));
  return out;
}

absl::Status FromCallStatus(const v1::CallStatus& status) {
  if (status.code() == 0) {
    return absl::InternalError(
        "the actor answered with an OK CallStatus instead of its reply");
  }
  if (status.code() < 0 || status.code() > 16) {
    return absl::UnknownError(absl::StrCat("the actor answered with code ",
                                           status.code(), ": ",
                                           status.message()));
  }
  return absl::Status(static_cast<absl::StatusCode>(status.code()),
                      status.message());
}

namespace {

// INVALID_ARGUMENT unless `message` is `method`'s input type.
absl::Status CheckInput(const MethodDescriptor* method,
                        const Message& message) {
  if (message.GetDescriptor() == method->input_type()) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      method->full_name(), " takes a ", method->input_type()->full_name(),
      ", not a ", TypeName(message)));
}

}  // namespace

absl::StatusOr<const MethodDescriptor*> CallMethod(absl::string_view full_name,
                                                   const Message& message) {
  const MethodDescriptor* method =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
          std::string(full_name));
  if (method == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("no service method '", full_name,
                     "' is linked into this node (give its full name, "
                     "package.Service.Method)"));
  }
  if (absl::Status input = CheckInput(method, message); !input.ok()) {
    return input;
  }
  if (method->server_streaming() || method->client_streaming()) {
    return absl::InvalidArgumentError(absl::StrCat(
        method->full_name(),
        " streams: call it through the node's gRPC service of it, not as a "
        "tell or an ask"));
  }
  return method;
}

void AnswerWithStatus(const ActorRef& caller, const absl::Status& status) {
  EnvelopePtr envelope = MakeEnvelope(ToCallStatus(status), ActorRef());
  envelope->answer = true;  // an undeliverable one is told to the caller
  caller.process()->SendUser(std::move(envelope));
}

absl::Status UnexpectedReply(const Message& reply,
                             const google::protobuf::Descriptor* expected) {
  return absl::InternalError(
      absl::StrCat("the actor replied with a ", TypeName(reply), ", not the ",
                   expected->full_name(), " the method returns"));
}

namespace {

// Answers the call being handled with `status`; a one-way call has no
// caller to tell, so its refusal is logged (at most 5 lines a second).
void Refuse(ActorContext& ctx, const absl::Status& status) {
  if (const ActorRef& caller = ctx.Sender()) {
    AnswerWithStatus(caller, status);
    return;
  }
  static LogLimiter* const limiter = new LogLimiter("typed", 5, absl::Seconds(1));
  limiter->Log(LogSeverity::kWarning,
               absl::StrCat("a one-way call was refused: ", status.ToString()));
}

}  // namespace

int MethodIndexOf(ActorContext& ctx, const Message& message,
                  const ServiceDescriptor* service) {
  const MethodDescriptor* method = ctx.Method();
  if (method == nullptr) {
    return kNotACall;
  }
  if (method->service() != service) {
    Refuse(ctx, absl::UnimplementedError(absl::StrCat(
                    ctx.Self().ToString(), " serves ", service->full_name(),
                    ", not ", method->full_name())));
    return kAnswered;
  }
  if (absl::Status input = CheckInput(method, message); !input.ok()) {
    Refuse(ctx, input);
    return kAnswered;
  }
  return method->index();
}

absl::Status NotImplemented(const ActorContext& ctx) {
  const MethodDescriptor* method = ctx.Method();
  return absl::UnimplementedError(absl::StrCat(
      ctx.Self().ToString(), " does not implement ",
      method != nullptr ? method->full_name() : std::string("this method")));
}

}  // namespace troupe
