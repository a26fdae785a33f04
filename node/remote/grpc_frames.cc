#include "node/remote/grpc_frames.h"

#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>

namespace troupe {

void SerializeFrame(const v1::Frame& frame, grpc::ByteBuffer* buffer) {
  buffer->Clear();
  bool own_buffer = false;
  // Cannot fail for a message that is set up correctly (no required
  // fields in proto3).
  (void)grpc::SerializationTraits<v1::Frame>::Serialize(frame, buffer,
                                                        &own_buffer);
}

bool ParseFrame(grpc::ByteBuffer* buffer, v1::Frame* frame) {
  grpc::ProtoBufferReader reader(buffer);
  return frame->ParseFromZeroCopyStream(&reader);
}

}  // namespace troupe
