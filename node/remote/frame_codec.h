// The wire form of a batch (proto/troupe.proto, Frame): FrameEncoder builds
// one frame from queued sends, naming each ref and message type once per
// frame; FrameDecoder reads one back, checking every index a peer sent.
// Protobuf only (no gRPC): grpc_frames.h moves frames in and out of gRPC's
// byte buffers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/message.h"
#include "node/remote/link_options.h"
#include "node/runtime/envelope.h"
#include "node/runtime/message.h"
#include "node/runtime/process.h"
#include "proto/troupe.pb.h"

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
  // For the few bytes outside the batch's accounting that are stamped on a
  // frame just before it is written (round_trip.h).
  v1::Frame* mutable_frame() { return &frame_; }

 private:
  uint32_t RefIndex(const Process& process);
  // The 1-based index of a message type's or a method's full name in
  // frame.types, added on first use.
  template <typename Descriptor>
  uint32_t NameIndex(absl::flat_hash_map<const Descriptor*, uint32_t>& named,
                     const Descriptor* descriptor);
  v1::Envelope* NewEnvelope(v1::Control control, uint32_t ref);

  const LinkOptions options_;
  size_t message_limit_;      // the smaller of ours and the peer's
  size_t batch_limit_;        // keeps a frame under the peer's frame limit
  bool peer_limits_ = false;  // message_limit_ is the peer's
  v1::Frame frame_;
  absl::flat_hash_map<const Process*, uint32_t> refs_;
  absl::flat_hash_map<const google::protobuf::Descriptor*, uint32_t> types_;
  absl::flat_hash_map<const google::protobuf::MethodDescriptor*, uint32_t>
      methods_;
  size_t bytes_ = 0;
  bool control_ = false;  // hello, leave or heartbeat set
};

// Reads one frame as a FrameEncoder wrote it, envelope by envelope. A peer
// wrote it, so nothing in it is trusted: an envelope naming a ref or type
// the frame does not carry is reported as malformed (and should be
// skipped); a payload of a type not linked into this process, or that does
// not parse, still decodes (as an Any with the bytes, and `problem` saying
// which), so whoever delivers it can return it as a dead letter. Types are
// looked up once per frame. Not thread-safe; the frame must outlive it.
class FrameDecoder {
 public:
  explicit FrameDecoder(const v1::Frame& frame);

  struct Decoded {
    v1::Control control = v1::USER;
    // The envelope's ref: its 1-based index into frame.refs() (so a reader
    // can resolve each ref once per frame), and that Pid.
    uint32_t target_index = 0;
    const v1::Pid* target = nullptr;
    // USER: the sender (index 0 and nullptr when none or out of range: a
    // sender is optional, so a bad one is dropped, not fatal).
    uint32_t sender_index = 0;
    const v1::Pid* sender = nullptr;
    // USER: the message (an Any carrying the type and bytes when it could
    // not be decoded; then `problem` says why, for a dead letter).
    MessagePtr message;
    // USER: the service method a typed call names (null for a plain
    // message; a method not linked into this process is a `problem`).
    const google::protobuf::MethodDescriptor* method = nullptr;
    // USER: an answer to a typed call (Envelope::answer).
    bool answer = false;
    std::string problem;
    // TERMINATED: why the watched actor ended.
    v1::TerminationReason reason = v1::TERMINATION_REASON_UNSPECIFIED;
  };

  int size() const { return frame_.envelopes_size(); }
  // Envelope `i` (0 <= i < size()); INVALID_ARGUMENT, naming the bad
  // index, when it is malformed.
  absl::StatusOr<Decoded> Decode(int i);

 private:
  const v1::Frame& frame_;
  std::vector<const Message*> prototypes_;  // by type index - 1
  std::vector<bool> looked_up_;
  // Method names, looked up on first use (by type index - 1).
  std::vector<const google::protobuf::MethodDescriptor*> methods_;
  std::vector<bool> methods_looked_up_;
};

// protobuf's parser logs an error line for each string field with invalid
// UTF-8, so a peer or client could flood a node's log. Routes protobuf's
// log lines through troupe's log, at most one a second (the count of the
// ones dropped goes with the next). Idempotent; process-wide.
void LimitProtobufLogs();

}  // namespace troupe
