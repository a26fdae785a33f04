#include "node/remote/grpc_frames.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

namespace troupe {

void SerializeToBuffer(const google::protobuf::Message& message,
                       grpc::ByteBuffer* buffer) {
  buffer->Clear();
  bool own_buffer = false;
  // Cannot fail for a message that is set up correctly (no required
  // fields in proto3).
  (void)grpc::SerializationTraits<google::protobuf::Message>::Serialize(
      message, buffer, &own_buffer);
}

bool ParseFromBuffer(grpc::ByteBuffer* buffer,
                     google::protobuf::Message* message) {
  grpc::ProtoBufferReader reader(buffer);
  return message->ParseFromZeroCopyStream(&reader);
}

}  // namespace troupe
