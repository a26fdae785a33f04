// troupectl: a node's ActorService from the shell.
//
//   troupectl --node=ADDR [--secret_file=F] COMMAND ...
//
// Messages are written as protobuf JSON of any type linked in (troupe's own,
// the stock kinds' and the well-known types). Exit codes, for scripts:
//   0 done            2 bad usage or input (also INVALID_ARGUMENT)
//   3 UNAVAILABLE     4 NOT_FOUND          5 DEADLINE_EXCEEDED
//   6 UNAUTHENTICATED 7 ALREADY_EXISTS     1 any other error
#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"
#include "node/cluster/cluster_wire.h"
#include "node/remote/cluster_auth.h"
#include "node/runtime/message.h"
#include "node/runtime/system_messages.h"
#include "node/service/command_line.h"
#include "proto/kinds.pb.h"
#include "sdk/client.h"
#include "sdk/troupectl_ops.h"

ABSL_FLAG(std::string, node, "127.0.0.1:7420", "the node to call (host:port)");
ABSL_FLAG(std::string, secret_file, "", "file holding the cluster secret");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM CA certificate the node's certificate is signed by (TLS)");
ABSL_FLAG(std::string, tls_cert, "",
          "PEM certificate to present to the node (TLS, optional)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(absl::Duration, timeout, absl::Seconds(5),
          "ask: how long to wait for the reply; watch: how long to wait for "
          "the end (0 = forever); other calls: how long they may take");
ABSL_FLAG(std::string, on, "",
          "spawn, lookup: the node to do it on; members: the node whose view "
          "to print; actors: the node to list (host:port; default: --node)");
ABSL_FLAG(std::string, init_type, "",
          "spawn: the type of the kind's init argument, e.g. "
          "google.protobuf.Int64Value");
ABSL_FLAG(std::string, init, "", "spawn: the init argument as JSON");
ABSL_FLAG(bool, graceful, false,
          "stop: after the messages already queued (a PoisonPill)");
ABSL_FLAG(std::string, kind, "", "actors: only actors of this kind");
ABSL_FLAG(uint32_t, page_size, 0,
          "actors: actors per page (1-10000; 0 = the node's default, 1000)");
ABSL_FLAG(std::string, page_token, "",
          "actors: the page to print (from the last line of the previous "
          "one)");
ABSL_FLAG(bool, all, false,
          "actors: every page, then a summary line (actors, pages, time)");
ABSL_FLAG(absl::Duration, interval, absl::Seconds(1),
          "top: the time between two redraws; a sample that takes longer "
          "(at least 500ms) is shown as the node being unreachable");

namespace troupe {
namespace {

constexpr char kUsage[] =
    "calls a troupe node's ActorService.\n"
    "  troupectl [--node=ADDR] [--secret_file=F] [--tls_ca=F] COMMAND\n"
    "Commands:\n"
    "  spawn KIND [NAME] [--init_type=T --init=JSON] [--on=NODE]\n"
    "                           prints the new actor's ref\n"
    "  register NAME REF        NAME names REF in the whole cluster\n"
    "  lookup NAME [--on=NODE]  prints the ref (no --on: a cluster-wide name,\n"
    "                           else an actor of the node connected to)\n"
    "  tell REF TYPE JSON       e.g. tell troupe://h:p/c troupe.v1.CounterAdd "
    "'{\"delta\": 2}'\n"
    "  ask REF TYPE JSON [--timeout=5s]\n"
    "                           prints the reply as JSON with its @type\n"
    "  watch REF [--timeout=0]  waits for the end; prints the reason\n"
    "  stop REF [--graceful]\n"
    "  stats                    prints the node's counters as JSON\n"
    "  members [--on=NODE]      the cluster's members as the node (or NODE)\n"
    "                           sees them: address, state, run, since, why\n"
    "  actors [--on=NODE] [--kind=K] [--page_size=N] [--page_token=T|--all]\n"
    "                           the node's actors: id, kind, mailbox depth,\n"
    "                           messages handled, age\n"
    "  inspect REF              one actor: kind, mailbox, handled, age,\n"
    "                           parent, watchers, children (REF may be an\n"
    "                           id of the node called)\n"
    "  top [--interval=1s]      the node's live view (q or Ctrl-C quits):\n"
    "                           messages/s, dead letters/s, actors, busiest\n"
    "                           kinds, links\n"
    "A REF is troupe://host:port/id, or @KIND:KEY for the cluster's virtual\n"
    "actor KIND:KEY (activated on first use, wherever it is placed).\n"
    "Exit codes: 0 done, 2 bad usage or input, 3 unavailable, 4 not found,\n"
    "5 deadline exceeded, 6 unauthenticated, 7 already exists, 1 other.";

int ExitCode(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return 0;
    case absl::StatusCode::kInvalidArgument:
      return 2;
    case absl::StatusCode::kUnavailable:
      return 3;
    case absl::StatusCode::kNotFound:
      return 4;
    case absl::StatusCode::kDeadlineExceeded:
      return 5;
    case absl::StatusCode::kUnauthenticated:
      return 6;
    case absl::StatusCode::kAlreadyExists:
      return 7;
    default:
      return 1;
  }
}

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "troupectl: %s\n", status.ToString().c_str());
  return ExitCode(status);
}

int Usage(const std::string& what) {
  std::fprintf(stderr, "troupectl: %s (see --help)\n", what.c_str());
  return 2;
}

// A message of the named type from its JSON.
absl::StatusOr<MessagePtr> FromJson(const std::string& type,
                                    const std::string& json) {
  const Message* prototype = FindPrototype(type);
  if (prototype == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no message type '", type,
        "' in troupectl (troupe.v1.*, the stock kinds' messages and "
        "google.protobuf.* well-known types are)"));
  }
  MessagePtr message(prototype->New());
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      json.empty() ? "{}" : json, message.get());
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", json, "' is not JSON of ", type, ": ", parsed.ToString()));
  }
  return message;
}

std::string ToJson(const Message& message, bool pretty) {
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = pretty;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options)
           .ok()) {
    return absl::StrCat("(a ", TypeName(message), " that JSON cannot show)");
  }
  if (!json.empty() && json.back() == '\n') {
    json.pop_back();
  }
  return json;
}

// One line per member, under a header naming the node asked.
void PrintMembers(const v1::MembersReply& members) {
  std::printf("cluster '%s' as seen from %s: %d members\n",
              members.cluster().c_str(), members.node().c_str(),
              members.members_size());
  std::printf("%-24s %-8s %-16s %-20s %s\n", "ADDRESS", "STATE", "RUN",
              "SINCE (UTC)", "WHY");
  for (const v1::Member& member : members.members()) {
    std::string state = v1::MemberState_Name(member.state());
    state = absl::AsciiStrToLower(absl::StripPrefix(state, "MEMBER_"));
    const std::string since =
        member.since_unix_ms() == 0
            ? "-"
            : absl::FormatTime("%Y-%m-%d %H:%M:%S",
                               absl::FromUnixMillis(member.since_unix_ms()),
                               absl::UTCTimeZone());
    std::printf("%-24s %-8s %016llx %-20s %s\n", member.address().c_str(),
                state.c_str(),
                static_cast<unsigned long long>(member.incarnation()),
                since.c_str(), member.reason().c_str());
  }
}

int Run(const std::vector<std::string>& args) {
  if (args.empty()) {
    return Usage("no command");
  }
  const std::string& command = args[0];
  const size_t arity = args.size() - 1;
  const bool known =
      (command == "spawn" && (arity == 1 || arity == 2)) ||
      (command == "lookup" && arity == 1) ||
      (command == "register" && arity == 2) ||
      ((command == "tell" || command == "ask") && arity == 3) ||
      ((command == "watch" || command == "stop" || command == "inspect") &&
       arity == 1) ||
      ((command == "stats" || command == "members" || command == "actors" ||
        command == "top") &&
       arity == 0);
  if (!known) {
    return Usage(absl::StrCat("'", command, "' with ", arity,
                              " arguments is not a command"));
  }

  ClientOptions options;
  options.node = absl::GetFlag(FLAGS_node);
  options.call_timeout = absl::GetFlag(FLAGS_timeout) > absl::ZeroDuration()
                             ? absl::GetFlag(FLAGS_timeout)
                             : absl::Seconds(5);
  if (command == "top") {
    // A sample waits at most an interval, so that q answers within about
    // one even while the node cannot be reached.
    options.call_timeout = std::min(
        options.call_timeout,
        std::max(absl::GetFlag(FLAGS_interval), absl::Milliseconds(500)));
  }
  if (const std::string file = absl::GetFlag(FLAGS_secret_file);
      !file.empty()) {
    absl::StatusOr<std::string> secret = ReadSecretFile(file);
    if (!secret.ok()) {
      return Usage(std::string(secret.status().message()));
    }
    options.secret = *std::move(secret);
  }
  absl::StatusOr<TlsPem> tls =
      LoadTls(absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
              absl::GetFlag(FLAGS_tls_ca), /*client=*/true);
  if (!tls.ok()) {
    return Usage(std::string(tls.status().message()));
  }
  options.tls = *std::move(tls);
  // Messages and refs are checked before connecting.
  MessagePtr message;
  if (command == "tell" || command == "ask") {
    absl::StatusOr<MessagePtr> parsed = FromJson(args[2], args[3]);
    if (!parsed.ok()) {
      return Usage(std::string(parsed.status().message()));
    }
    message = *std::move(parsed);
  }
  MessagePtr init;
  if (command == "spawn" && !absl::GetFlag(FLAGS_init_type).empty()) {
    absl::StatusOr<MessagePtr> parsed =
        FromJson(absl::GetFlag(FLAGS_init_type), absl::GetFlag(FLAGS_init));
    if (!parsed.ok()) {
      return Usage(std::string(parsed.status().message()));
    }
    init = *std::move(parsed);
  }
  absl::StatusOr<Pid> target;
  std::optional<Identity> identity;
  if (command == "tell" || command == "ask" || command == "watch" ||
      command == "stop" || command == "register") {
    const std::string& ref = command == "register" ? args[2] : args[1];
    if (absl::StartsWith(ref, "@")) {
      std::vector<std::string> parts =
          absl::StrSplit(ref.substr(1), absl::MaxSplits(':', 1));
      if (parts.size() != 2) {
        return Usage("a virtual actor is @KIND:KEY");
      }
      if (absl::Status valid = ValidateIdentity(parts[0], parts[1]);
          !valid.ok()) {
        return Usage(std::string(valid.message()));
      }
      identity = Identity{parts[0], parts[1]};
    } else {
      target = ParsePid(ref);
      if (!target.ok()) {
        return Usage(std::string(target.status().message()));
      }
    }
  }

  absl::StatusOr<std::unique_ptr<Client>> connected = Client::Connect(options);
  if (!connected.ok()) {
    return Fail(connected.status());
  }
  Client& client = **connected;
  const std::string on = absl::GetFlag(FLAGS_on);
  if (identity.has_value()) {
    target = client.Identity(identity->kind, identity->key)->pid();
  }

  if (command == "spawn") {
    absl::StatusOr<ActorRef> ref =
        client.Spawn(args[1], arity == 2 ? args[2] : "", init.get(), on);
    if (!ref.ok()) {
      return Fail(ref.status());
    }
    std::printf("%s\n", ref->ToString().c_str());
  } else if (command == "lookup") {
    absl::StatusOr<ActorRef> ref = client.Lookup(args[1], on);
    if (!ref.ok()) {
      return Fail(ref.status());
    }
    std::printf("%s\n", ref->ToString().c_str());
  } else if (command == "register") {
    if (absl::Status registered =
            client.RegisterName(args[1], client.Ref(*target));
        !registered.ok()) {
      return Fail(registered);
    }
  } else if (command == "tell") {
    // Leaves on the client's stream, which closing flushes.
    client.Tell(client.Ref(*target), std::move(message));
  } else if (command == "ask") {
    absl::StatusOr<MessagePtr> reply =
        client
            .Ask(client.Ref(*target), std::move(message),
                 absl::GetFlag(FLAGS_timeout))
            .get();
    if (!reply.ok()) {
      return Fail(reply.status());
    }
    std::printf("%s\n", ToJson(PackAny(**reply), false).c_str());
  } else if (command == "watch") {
    const ActorRef ref = client.Ref(*target);
    client.Watch(ref);
    const absl::Duration wait = absl::GetFlag(FLAGS_timeout);
    absl::StatusOr<Terminated> end = client.ReceiveAs<Terminated>(
        wait > absl::ZeroDuration() ? wait : absl::InfiniteDuration());
    if (!end.ok()) {
      return Fail(end.status());
    }
    std::printf("%s %s\n", ref.ToString().c_str(),
                v1::TerminationReason_Name(end->reason()).c_str());
  } else if (command == "stop") {
    if (absl::Status stopped =
            client.Stop(client.Ref(*target), absl::GetFlag(FLAGS_graceful));
        !stopped.ok()) {
      return Fail(stopped);
    }
  } else if (command == "actors") {
    ActorsCommand actors;
    actors.node = on;
    actors.kind = absl::GetFlag(FLAGS_kind);
    actors.page_size = absl::GetFlag(FLAGS_page_size);
    actors.page_token = absl::GetFlag(FLAGS_page_token);
    actors.all = absl::GetFlag(FLAGS_all);
    if (absl::Status listed = RunActors(client, actors); !listed.ok()) {
      return Fail(listed);
    }
  } else if (command == "inspect") {
    if (absl::Status inspected = RunInspect(client, args[1]); !inspected.ok()) {
      return Fail(inspected);
    }
  } else if (command == "top") {
    if (absl::Status ended = RunTop(client, absl::GetFlag(FLAGS_interval));
        !ended.ok()) {
      return Fail(ended);
    }
  } else if (command == "members") {
    absl::StatusOr<v1::MembersReply> members = client.Members(on);
    if (!members.ok()) {
      return Fail(members.status());
    }
    PrintMembers(*members);
  } else {  // stats
    absl::StatusOr<v1::StatsReply> stats = client.Stats();
    if (!stats.ok()) {
      return Fail(stats.status());
    }
    std::printf("%s\n", ToJson(*stats, true).c_str());
  }
  return 0;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  return troupe::Run(troupe::ParseCommandLine(troupe::kUsage, argc, argv));
}
