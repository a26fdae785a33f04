#include "node/remote/reflection_guard.h"

#include <cstring>
#include <string>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace troupe {
namespace {

// The one method of server reflection, as gRPC 1.51 serves it and as later
// versions name it too.
constexpr const char* kReflectionMethods[] = {
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"};

class Guard final : public grpc::experimental::Interceptor {
 public:
  Guard(grpc::experimental::ServerRpcInfo* info,
        const std::atomic<ClusterAuth*>* auth)
      : info_(info), auth_(auth) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::POST_RECV_INITIAL_METADATA)) {
      ClusterAuth* auth = auth_->load(std::memory_order_acquire);
      refused_ = auth == nullptr
                     ? absl::UnavailableError("the node is starting")
                     : auth->Check(*info_->server_context());
    }
    if (!refused_.ok()) {
      if (methods->QueryInterceptionHookPoint(
              InterceptionHookPoints::POST_RECV_MESSAGE)) {
        if (void* request = methods->GetRecvMessage()) {
          static_cast<google::protobuf::Message*>(request)->Clear();
        }
      }
      if (methods->QueryInterceptionHookPoint(
              InterceptionHookPoints::PRE_SEND_MESSAGE)) {
        ReplaceAnswer(methods);
      }
      if (methods->QueryInterceptionHookPoint(
              InterceptionHookPoints::PRE_SEND_STATUS)) {
        methods->ModifySendStatus(
            grpc::Status(static_cast<grpc::StatusCode>(refused_.code()),
                         std::string(refused_.message())));
      }
    }
    methods->Proceed();
  }

 private:
  // Sends an error_response with the refusal instead of the service's
  // answer (of the same generated type, so gRPC serializes it as usual).
  void ReplaceAnswer(grpc::experimental::InterceptorBatchMethods* methods) {
    const void* sent = methods->GetSendMessage();
    if (sent == nullptr) {
      return;
    }
    const auto* original = static_cast<const google::protobuf::Message*>(sent);
    answer_.reset(original->New());
    const google::protobuf::Descriptor* type = answer_->GetDescriptor();
    const google::protobuf::FieldDescriptor* error =
        type->FindFieldByName("error_response");
    if (error != nullptr) {
      google::protobuf::Message* body =
          answer_->GetReflection()->MutableMessage(answer_.get(), error);
      const google::protobuf::Descriptor* body_type = body->GetDescriptor();
      if (const auto* code = body_type->FindFieldByName("error_code")) {
        body->GetReflection()->SetInt32(body, code,
                                        static_cast<int>(refused_.code()));
      }
      if (const auto* text = body_type->FindFieldByName("error_message")) {
        body->GetReflection()->SetString(body, text,
                                         std::string(refused_.message()));
      }
    }
    methods->ModifySendMessage(answer_.get());
  }

  grpc::experimental::ServerRpcInfo* const info_;
  const std::atomic<ClusterAuth*>* const auth_;
  absl::Status refused_;
  std::unique_ptr<google::protobuf::Message> answer_;
};

class GuardFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit GuardFactory(const std::atomic<ClusterAuth*>* auth) : auth_(auth) {}

  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    if (info->method() != nullptr) {
      for (const char* reflection : kReflectionMethods) {
        if (std::strcmp(info->method(), reflection) == 0) {
          return new Guard(info, auth_);
        }
      }
    }
    return nullptr;  // every other method checks the secret itself
  }

 private:
  const std::atomic<ClusterAuth*>* const auth_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewReflectionGuard(const std::atomic<ClusterAuth*>* auth) {
  return std::make_unique<GuardFactory>(auth);
}

}  // namespace troupe
