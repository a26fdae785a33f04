// Frames in and out of gRPC's byte buffers: a link's calls carry raw bytes
// (parsed here), so a frame that does not parse is skipped by its reader
// rather than failing the call.
#pragma once

#include "proto/troupe.pb.h"

namespace grpc {
class ByteBuffer;
}  // namespace grpc

namespace troupe {

// Serializes `frame` into `buffer` (replacing its contents).
void SerializeFrame(const v1::Frame& frame, grpc::ByteBuffer* buffer);
// Parses `buffer` into `frame`; false when the bytes are not a Frame.
bool ParseFrame(grpc::ByteBuffer* buffer, v1::Frame* frame);

}  // namespace troupe
