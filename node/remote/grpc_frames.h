// Protobuf messages in and out of gRPC's byte buffers: a link's calls carry
// raw frames (parsed here), so a frame that does not parse is skipped by
// its reader rather than failing the call; the typed-actor ingress carries
// each call's message as raw bytes of the type its method names.
#pragma once

#include "google/protobuf/message.h"
#include "proto/troupe.pb.h"

namespace grpc {
class ByteBuffer;
}  // namespace grpc

namespace troupe {

// Serializes `message` into `buffer` (replacing its contents).
void SerializeToBuffer(const google::protobuf::Message& message,
                       grpc::ByteBuffer* buffer);
// Parses `buffer` into `message`; false when the bytes are not one.
bool ParseFromBuffer(grpc::ByteBuffer* buffer,
                     google::protobuf::Message* message);

// The same for a link's frames.
inline void SerializeFrame(const v1::Frame& frame, grpc::ByteBuffer* buffer) {
  SerializeToBuffer(frame, buffer);
}
inline bool ParseFrame(grpc::ByteBuffer* buffer, v1::Frame* frame) {
  return ParseFromBuffer(buffer, frame);
}

}  // namespace troupe
