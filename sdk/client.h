// troupe::Client: a C++ program's connection to a troupe cluster through one
// node. It hands out refs of the runtime's own ActorRef type, so code written
// against Teller/ActorRef (Tell, Ask, refs inside messages) works the same
// with a local actor and a remote one. The client has an inbox on the node:
// it is the sender of everything the client tells, so actors reply to a
// client exactly as to an actor; replies, and Terminated notices of
// watched refs, arrive through Receive.
//
//   troupe::ClientOptions options;
//   options.node = "127.0.0.1:7420";
//   auto client = troupe::Client::Connect(options);
//   auto counter = (*client)->Spawn("counter");
//   (*client)->Tell(*counter, add);
//   auto value = (*client)->Ask(*counter, troupe::v1::CounterGet(), 2s).get();
//
// No gRPC type appears here.
#pragma once

#include <future>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "node/remote/link_options.h"
#include "node/runtime/actor_ref.h"
#include "node/runtime/inbox.h"
#include "node/runtime/message.h"
#include "node/runtime/system_messages.h"
#include "node/runtime/teller.h"
#include "proto/troupe.pb.h"

namespace troupe {

struct ClientOptions {
  // The node to connect to (host:port).
  std::string node;
  // The cluster secret ("" = the node needs none).
  std::string secret;
  // How long Connect, Spawn, Lookup, Stop and Stats may take.
  absl::Duration call_timeout = absl::Seconds(10);
  // TLS: the CA the node's certificate is signed by (and a certificate and
  // key to present, optional); not enabled = plaintext. LoadTls (in
  // node/remote/cluster_auth.h) reads them from files.
  TlsPem tls;
};

class ClientCore;

class Client final : public Requester {
 public:
  // Connects and opens the client's inbox on the node. UNAVAILABLE when the
  // node cannot be reached within call_timeout (also when the TLS handshake
  // fails: plaintext to a TLS node, or a certificate it does not trust),
  // UNAUTHENTICATED for a missing or wrong secret, INVALID_ARGUMENT for a
  // bad address.
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);
  // Closes the inbox after the tells already made have reached the node
  // (waiting up to call_timeout); refs from this client stop working (their
  // messages are dropped with a log line).
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // The client's inbox on the node: the sender of what it tells.
  const ActorRef& self() const { return self_; }

  // Spawns a `kind` (see the node's --help) named `name` ("" = generated)
  // with the optional `init`, on `node` ("" = the node connected to).
  absl::StatusOr<ActorRef> Spawn(absl::string_view kind,
                                 absl::string_view name = "",
                                 const Message* init = nullptr,
                                 absl::string_view node = "");
  // The live actor named `name` on `node` ("" = the node connected to), as
  // a name-only ref: it reaches whichever actor has the name when a message
  // arrives (a Spawn's ref reaches only the actor spawned). NOT_FOUND when
  // no actor has the name; UNAVAILABLE when `node` is down or unreachable.
  absl::StatusOr<ActorRef> Lookup(absl::string_view name,
                                  absl::string_view node = "");
  // A ref for a pid (e.g. one received inside a message), or for
  // troupe://host:port/id. Thread-safe.
  // The virtual actor (kind, key) of the node's cluster (README, "Virtual
  // actors"): what is sent on the ref goes to the identity's one
  // activation, on whichever member owns the key, made when needed.
  // INVALID_ARGUMENT for a bad kind or key (ValidateIdentity).
  absl::StatusOr<ActorRef> Identity(absl::string_view kind,
                                    absl::string_view key);
  // Cluster-wide names (README, "Cluster-wide names"), through the node's
  // cluster actor: `name` for `ref` in the whole cluster until `ref` ends
  // or its node is down (ALREADY_EXISTS naming who has it, NOT_FOUND when
  // `ref` is not alive, INVALID_ARGUMENT, UNAVAILABLE); and who has it
  // (NOT_FOUND when nobody). Lookup(name) also finds a cluster-wide name.
  absl::Status RegisterName(absl::string_view name, const ActorRef& ref);
  absl::StatusOr<ActorRef> WhereIs(absl::string_view name);
  ActorRef Ref(const Pid& pid);
  ActorRef Ref(const v1::Pid& pid) override { return Ref(FromProto(pid)); }
  absl::StatusOr<ActorRef> Ref(absl::string_view text);

  // Stops `ref`: now (queued messages become dead letters) or, graceful,
  // after the messages already queued (a PoisonPill), and returns once it
  // has terminated (its name is then free). NOT_FOUND when no such actor
  // was alive; UNAVAILABLE when its node is down or unreachable (whether it
  // stopped is unknown); DEADLINE_EXCEEDED when it had not ended within
  // call_timeout (the stop goes on).
  absl::Status Stop(const ActorRef& ref, bool graceful = false);
  absl::Status Stop(const v1::Pid& pid, bool graceful = false) {
    return Stop(Ref(pid), graceful);
  }

  // Terminated{ref, reason} arrives in Receive once, when `ref` ends.
  void Watch(const ActorRef& ref);
  void Watch(const v1::Pid& pid) { Watch(Ref(pid)); }

  // The oldest message sent to self() (or Terminated notice), waiting up to
  // `timeout`; DEADLINE_EXCEEDED when none came, UNAVAILABLE once the
  // connection is gone. Thread-safe.
  absl::StatusOr<Inbox::Received> Receive(absl::Duration timeout);
  // Receives until a T arrives (others are dropped).
  template <typename T>
  absl::StatusOr<T> ReceiveAs(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      absl::StatusOr<Inbox::Received> received =
          Receive(deadline - absl::Now());
      if (!received.ok()) {
        return received.status();
      }
      if (const T* value = As<T>(*received->message)) {
        return *value;
      }
    }
  }

  // The node's counters, links and kinds.
  absl::StatusOr<v1::StatsReply> Stats();
  // The cluster's members as the node at `node` (host:port; "" = the node
  // connected to) sees them, sorted by address (README, "Cluster").
  // UNAVAILABLE when that node is down or unreachable.
  absl::StatusOr<v1::MembersReply> Members(const std::string& node = "");
  // A page of the actors of the node request.node names ("" = the node
  // connected to), README "Operations": keep calling with the reply's
  // next_page_token until it is empty. INVALID_ARGUMENT for a page size
  // over 10,000 or a token that does not parse; UNAVAILABLE when that node
  // is down or unreachable.
  absl::StatusOr<v1::ListActorsReply> ListActors(
      const v1::ListActorsRequest& request);
  // One actor's state: `ref` is troupe://host:port/id, or an id of the
  // node connected to. NOT_FOUND when it is not alive.
  absl::StatusOr<v1::InspectReply> Inspect(const std::string& ref);

  // Requester: Tell sends in order through the inbox stream, with self() as
  // the sender (a delay or period runs on the client's timer thread; a
  // message that cannot be delivered comes back to Receive as a DeadLetter
  // with its reason); Ask completes with the reply or, as soon as the node
  // knows, the status of the cause: NOT_FOUND (no such actor), UNAVAILABLE
  // (its node down or unreachable), RESOURCE_EXHAUSTED (a full mailbox, a
  // message too large), INVALID_ARGUMENT (a type the target's node cannot
  // read), DEADLINE_EXCEEDED (no reply within `timeout`). Thread-safe.
  TimerHandle TellEnvelope(const ActorRef& to, EnvelopePtr envelope,
                           const TellOptions& options) override;
  void AskAsync(const ActorRef& to, EnvelopePtr envelope,
                absl::Duration timeout, AskCallback done) override;
  // SpawnOn and LookupOn (Requester) reach any node of the cluster through
  // the node connected to ("" = that node), over the client's stream.
  std::future<absl::StatusOr<ActorRef>> Activate(
      const Message& request, absl::Duration timeout) override;

 private:
  Client(std::shared_ptr<ClientCore> core, ActorRef self);
  // A name request asked of the node's cluster actor: the ref its
  // NameReply carries, or its error.
  absl::StatusOr<ActorRef> AskNames(const Message& request);

  ActorRef DefaultSender() const override { return self_; }

  std::shared_ptr<ClientCore> core_;
  ActorRef self_;
};

}  // namespace troupe
