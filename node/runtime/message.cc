#include "node/runtime/message.h"

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

}  // namespace troupe
