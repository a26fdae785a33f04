// The wire form of a batch: FrameEncoder builds one Frame from queued sends,
// naming each ref and message type once per frame; the helpers below turn
// frames into gRPC byte buffers and back, and find a message type by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "node/remote/link_options.h"
#include "node/runtime/envelope.h"
#include "node/runtime/process.h"
#include "proto/troupe.pb.h"

namespace grpc {
class ByteBuffer;
}  // namespace grpc

namespace troupe {

// Not thread-safe: one per writer, reused frame after frame (Clear keeps
// the frame's allocations, so a steady stream allocates little).
class FrameEncoder {
 public:
  explicit FrameEncoder(const LinkOptions& options)
      : options_(options),
        message_limit_(options.max_message_bytes),
        batch_limit_(options.max_batch_bytes) {}

  // Keeps messages and frames within what the peer accepts (its Hello's
  // limits; 0 = not said): a message over the smaller of the two message
  // limits is refused, and a frame is cut so that it stays under the
  // peer's frame limit. Call between frames.
  void SetPeerLimits(size_t max_message_bytes, size_t max_frame_bytes);

  // Starts an empty frame.
  void Clear();
  bool empty() const { return frame_.envelopes_size() == 0 && !control_; }
  // True once the frame holds as many envelopes or bytes as a batch may.
  bool full() const {
    return static_cast<size_t>(frame_.envelopes_size()) >=
               options_.max_batch_envelopes ||
           bytes_ >= batch_limit_;
  }
  // About how many bytes the frame will take.
  size_t bytes() const { return bytes_; }

  // Adds a user message for `target` (a process of the peer). A message
  // larger than options.max_message_bytes, or than the peer's limit, is not
  // added: RESOURCE_EXHAUSTED, saying how large it is and whose limit.
  absl::Status AddUser(const Process& target, const Envelope& envelope);
  // Adds STOP, WATCH or UNWATCH of `target`.
  void AddControl(v1::Control control, const Process& target);
  // Adds TERMINATED for `pid` (as the peer's WATCH named it).
  void AddTerminated(const v1::Pid& pid, v1::TerminationReason reason);
  // Adds `control` (WATCHED) naming `pid` as the peer's WATCH named it.
  void AddNamed(v1::Control control, const v1::Pid& pid);
  void SetHello(const v1::Hello& hello);
  void SetLeave();
  void SetHeartbeat();

  const v1::Frame& frame() const { return frame_; }

 private:
  uint32_t RefIndex(const Process& process);
  uint32_t TypeIndex(const google::protobuf::Descriptor* type);
  v1::Envelope* NewEnvelope(v1::Control control, uint32_t ref);

  const LinkOptions options_;
  size_t message_limit_;  // the smaller of ours and the peer's
  size_t batch_limit_;    // keeps a frame under the peer's frame limit
  bool peer_limits_ = false;  // message_limit_ is the peer's
  v1::Frame frame_;
  absl::flat_hash_map<const Process*, uint32_t> refs_;
  absl::flat_hash_map<const google::protobuf::Descriptor*, uint32_t> types_;
  size_t bytes_ = 0;
  bool control_ = false;  // hello, leave or heartbeat set
};

// Serializes `frame` into `buffer` (replacing its contents).
void SerializeFrame(const v1::Frame& frame, grpc::ByteBuffer* buffer);
// Parses `buffer` into `frame`; false when the bytes are not a Frame.
bool ParseFrame(grpc::ByteBuffer* buffer, v1::Frame* frame);

// protobuf's parser logs an error line for each string field with invalid
// UTF-8, so a peer or client could flood a node's log. Routes protobuf's
// log lines through troupe's log, at most one a second (the count of the
// ones dropped goes with the next). Idempotent; process-wide.
void LimitProtobufLogs();


}  // namespace troupe
