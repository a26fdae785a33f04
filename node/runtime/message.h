// Messages are protobuf messages. A local send moves the object; receivers
// match with Is<T>() / As<T>(). Text travels as google.protobuf.StringValue.
#pragma once

#include <memory>
#include <string>
#include <type_traits>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/any.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/wrappers.pb.h"

namespace troupe {

using Message = google::protobuf::Message;
using MessagePtr = std::unique_ptr<Message>;

template <typename T>
inline constexpr bool kIsMessage =
    std::is_base_of_v<Message, std::remove_cv_t<std::remove_reference_t<T>>>;

// True when `message` is a T (compares descriptors: one pointer comparison).
template <typename T>
bool Is(const Message& message) {
  return message.GetDescriptor() == T::descriptor();
}

// `message` as a T, or nullptr when it is not one.
template <typename T>
const T* As(const Message& message) {
  return Is<T>(message) ? static_cast<const T*>(&message) : nullptr;
}

// True when `message` is a StringValue holding `text` (for seed-style
// string protocols: IsText(msg, "ping!")).
bool IsText(const Message& message, absl::string_view text);

// The text of a StringValue, or "" for any other message.
absl::string_view TextOf(const Message& message);

// The message's full protobuf type name, e.g. "google.protobuf.StringValue".
const std::string& TypeName(const Message& message);

// A StringValue holding `text`.
google::protobuf::StringValue Text(absl::string_view text);

// A deep copy of `message` as a new object of the same type.
MessagePtr CloneMessage(const Message& message);

// The default instance of the message type named `type_name` (e.g.
// "google.protobuf.StringValue"), or null when no such type is linked into
// this program. Thread-safe; cached (only names that exist are cached, so
// untrusted names cannot grow the cache).
const Message* FindPrototype(absl::string_view type_name);

// "type.googleapis.com/", the prefix of an Any's type URL.
inline constexpr absl::string_view kTypeUrlPrefix = "type.googleapis.com/";

// `message` packed in an Any.
google::protobuf::Any PackAny(const Message& message);

// The full name of the type inside `any` (its type URL after the last
// '/'); empty when the URL names none.
absl::string_view AnyTypeName(const google::protobuf::Any& any);

// The message inside `any`, as its own type. INVALID_ARGUMENT when the
// type is not linked into this program or the bytes do not parse as it.
absl::StatusOr<MessagePtr> UnpackAny(const google::protobuf::Any& any);

}  // namespace troupe
