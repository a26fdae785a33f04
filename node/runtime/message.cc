#include "node/runtime/message.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "node/runtime/sync.h"

namespace troupe {

bool IsText(const Message& message, absl::string_view text) {
  const auto* s = As<google::protobuf::StringValue>(message);
  return s != nullptr && s->value() == text;
}

absl::string_view TextOf(const Message& message) {
  const auto* s = As<google::protobuf::StringValue>(message);
  return s == nullptr ? absl::string_view() : absl::string_view(s->value());
}

const std::string& TypeName(const Message& message) {
  return message.GetDescriptor()->full_name();
}

google::protobuf::StringValue Text(absl::string_view text) {
  google::protobuf::StringValue value;
  value.set_value(std::string(text));
  return value;
}

MessagePtr CloneMessage(const Message& message) {
  MessagePtr copy(message.New());
  copy->CopyFrom(message);
  return copy;
}

const Message* FindPrototype(absl::string_view type_name) {
  static Mutex mu;
  static auto* cache = new absl::flat_hash_map<std::string, const Message*>();
  {
    ReaderMutexLock lock(&mu);
    if (auto it = cache->find(type_name); it != cache->end()) {
      return it->second;
    }
  }
  const google::protobuf::Descriptor* type =
      google::protobuf::DescriptorPool::generated_pool()->FindMessageTypeByName(
          std::string(type_name));
  if (type == nullptr) {
    return nullptr;
  }
  const Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  MutexLock lock(&mu);
  cache->emplace(std::string(type_name), prototype);
  return prototype;
}

google::protobuf::Any PackAny(const Message& message) {
  google::protobuf::Any any;
  any.PackFrom(message);
  return any;
}

absl::string_view AnyTypeName(const google::protobuf::Any& any) {
  absl::string_view url = any.type_url();
  const size_t slash = url.rfind('/');
  return slash == absl::string_view::npos ? url : url.substr(slash + 1);
}

absl::StatusOr<MessagePtr> UnpackAny(const google::protobuf::Any& any) {
  const absl::string_view name = AnyTypeName(any);
  if (name.empty()) {
    return absl::InvalidArgumentError(
        "the message's Any has no type URL (expected e.g. "
        "type.googleapis.com/google.protobuf.StringValue)");
  }
  const Message* prototype = FindPrototype(name);
  if (prototype == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("message type '", name, "' is not linked into this node"));
  }
  MessagePtr message(prototype->New());
  if (!message->ParseFromString(any.value())) {
    return absl::InvalidArgumentError(
        absl::StrCat("the message's bytes do not parse as ", name));
  }
  return message;
}

}  // namespace troupe
