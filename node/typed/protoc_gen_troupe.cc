// protoc-gen-troupe: a protoc plugin that turns each proto `service` of a
// file into a typed actor (see node/typed/typed_call.h). For
// `service Greeter` of foo.proto it writes foo.troupe.{h,cc} with:
//   - GreeterActor: an Actor base with one virtual method per rpc; unary
//     methods answer through a Responder<Out>, server-streaming ones through
//     a ServerStream<Out>; messages that are not calls go to ReceiveOther;
//   - GreeterRef: a typed ref; each unary rpc is a future from outside an
//     actor, a continuation inside one, or a one-way call;
//   - GreeterActor::KindOf<A>(name): the Kind that registers A as a kind.
// Client-streaming and bidi rpcs are refused with an error naming them.
//
//   protoc --plugin=protoc-gen-troupe=... --troupe_out=OUT foo.proto
//
// Built on Debian's libprotoc (libprotoc-dev). bazel/proto.bzl's
// troupe_actor_library runs it.
#include <map>
#include <memory>
#include <string>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/compiler/code_generator.h"
#include "google/protobuf/compiler/cpp/names.h"
#include "google/protobuf/compiler/plugin.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/printer.h"
#include "google/protobuf/io/zero_copy_stream.h"

namespace troupe {
namespace {

using google::protobuf::FileDescriptor;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;
using google::protobuf::compiler::GeneratorContext;
using google::protobuf::io::Printer;

std::string Namespace(const FileDescriptor* file) {
  return absl::StrReplaceAll(file->package(), {{".", "::"}});
}

std::string Cls(const google::protobuf::Descriptor* type) {
  return google::protobuf::compiler::cpp::QualifiedClassName(type);
}

// The rpc's leading comment, as C++ comment lines (indented two spaces).
std::string Comment(const MethodDescriptor* method) {
  google::protobuf::SourceLocation where;
  std::string out;
  if (method->GetSourceLocation(&where)) {
    std::string text = where.leading_comments;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
      text.pop_back();
    }
    size_t start = 0;
    while (!text.empty() && start <= text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) {
        end = text.size();
      }
      std::string line = text.substr(start, end - start);
      if (!line.empty() && line[0] == ' ') {
        line.erase(0, 1);
      }
      // A comment line ending in a backslash would continue onto the next
      // generated line.
      while (!line.empty() && (line.back() == '\\' || line.back() == ' ')) {
        line.pop_back();
      }
      absl::StrAppend(&out, "  //", line.empty() ? "" : " ", line, "\n");
      start = end + 1;
    }
  }
  return out;
}

std::map<std::string, std::string> Vars(const MethodDescriptor* method) {
  return {{"method", method->name()},
          {"full", method->full_name()},
          {"in", Cls(method->input_type())},
          {"in_proto", method->input_type()->full_name()},
          {"out_proto", method->output_type()->full_name()},
          {"out", Cls(method->output_type())},
          {"index", absl::StrCat(method->index())},
          {"service", method->service()->name()},
          {"comment", Comment(method)}};
}

void HeaderService(const ServiceDescriptor* service, Printer& p) {
  std::map<std::string, std::string> vars = {{"service", service->name()},
                                             {"full", service->full_name()}};
  p.Print(vars,
          "// The actor side of $full$: derive from it, override the methods\n"
          "// this actor implements (the others answer UNIMPLEMENTED), and\n"
          "// register it as a kind with KindOf.\n"
          "class $service$Actor : public ::troupe::Actor {\n"
          " public:\n"
          "  // $full$, from the generated descriptor pool.\n"
          "  static const ::google::protobuf::ServiceDescriptor* "
          "descriptor();\n\n");
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* m = service->method(i);
    if (m->server_streaming()) {
      p.Print(Vars(m),
              "$comment$  // rpc $method$($in_proto$) returns (stream "
              "$out_proto$)\n"
              "  virtual void $method$(::troupe::ActorContext& ctx, "
              "const $in$& request, ::troupe::ServerStream<$out$> stream);\n");
    } else {
      p.Print(Vars(m),
              "$comment$  // rpc $method$($in_proto$) returns ($out_proto$)\n"
              "  virtual void $method$(::troupe::ActorContext& ctx, "
              "const $in$& request, ::troupe::Responder<$out$> reply);\n");
    }
  }
  p.Print(
      vars,
      "\n"
      "  // Messages that are not calls of $full$ (timers, Terminated,\n"
      "  // replies to this actor's own tells). Default: ignored.\n"
      "  virtual ::absl::Status ReceiveOther(::troupe::ActorContext& ctx,\n"
      "                                      const ::troupe::Message& "
      "message);\n"
      "  // Dispatches calls to the methods above.\n"
      "  ::absl::Status Receive(::troupe::ActorContext& ctx,\n"
      "                         const ::troupe::Message& message) final;\n"
      "\n"
      "  // The Kind that makes A (derived from $service$Actor) by its\n"
      "  // default constructor, refusing an init; register it with\n"
      "  // TROUPE_REGISTER_ACTOR_KIND($service$Actor::KindOf<A>(\"name\")).\n"
      "  template <typename A>\n"
      "  static ::troupe::Kind KindOf(std::string name) {\n"
      "    ::troupe::KindMaker make = ::troupe::NoInit<A>(name);\n"
      "    return KindOf(std::move(name), std::move(make));\n"
      "  }\n"
      "  // The same with a maker of its own (one that takes an init).\n"
      "  static ::troupe::Kind KindOf(std::string name, "
      "::troupe::KindMaker make);\n"
      "};\n\n");

  p.Print(
      vars,
      "// A typed ref to an actor serving $full$, on this node, another\n"
      "// one, or reached through the SDK's Client. Copyable; thread-safe.\n"
      "// Each unary rpc comes three ways:\n"
      "//   - a future, from outside an actor (needs the Requester given\n"
      "//     at construction: an ActorSystem, an Inbox, a Client);\n"
      "//   - a continuation then(ctx, StatusOr<Out>), inside an actor;\n"
      "//   - one-way (no reply: the reply and any error go nowhere), at\n"
      "//     once or timed (TellOptions: a delay, a period).\n"
      "// Errors are an ask's (teller.h) or the status the actor failed\n"
      "// the call with.\n"
      "class $service$Ref {\n"
      " public:\n"
      "  $service$Ref() = default;\n"
      "  explicit $service$Ref(::troupe::ActorRef ref) : "
      "ref_(std::move(ref)) {}\n"
      "  // `via` must outlive the ref's futures.\n"
      "  $service$Ref(::troupe::Requester& via, ::troupe::ActorRef ref)\n"
      "      : via_(&via), ref_(std::move(ref)) {}\n"
      "  const ::troupe::ActorRef& ref() const { return ref_; }\n"
      "  explicit operator bool() const { return "
      "static_cast<bool>(ref_); }\n\n");
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* m = service->method(i);
    if (m->server_streaming()) {
      p.Print(Vars(m),
              "  // $method$ streams: call it through the node's gRPC "
              "ingress.\n\n");
      continue;
    }
    p.Print(Vars(m),
            "$comment$  std::future<::absl::StatusOr<$out$>> $method$(\n"
            "      $in$ request, ::absl::Duration timeout) const {\n"
            "    return ::troupe::CallFuture<$out$>(via_, ref_, "
            "$service$Actor::descriptor()->method($index$),\n"
            "                                       std::move(request), "
            "timeout);\n"
            "  }\n"
            "  template <typename F>\n"
            "  void $method$(::troupe::ActorContext& ctx, $in$ request,\n"
            "              ::absl::Duration timeout, F&& then) const {\n"
            "    ::troupe::CallThen<$out$>(ctx, ref_, "
            "$service$Actor::descriptor()->method($index$),\n"
            "                            std::move(request), timeout, "
            "std::forward<F>(then));\n"
            "  }\n"
            "  ::troupe::TimerHandle $method$(\n"
            "      ::troupe::Teller& via, $in$ request,\n"
            "      const ::troupe::TellOptions& options = {}) const {\n"
            "    return ::troupe::CallOneWay(via, ref_, "
            "$service$Actor::descriptor()->method($index$),\n"
            "                                std::move(request), options);\n"
            "  }\n\n");
  }
  p.Print(
      " private:\n"
      "  ::troupe::Requester* via_ = nullptr;\n"
      "  ::troupe::ActorRef ref_;\n"
      "};\n\n");
}

void SourceService(const ServiceDescriptor* service, Printer& p) {
  std::map<std::string, std::string> vars = {{"service", service->name()},
                                             {"full", service->full_name()}};
  std::string names;
  for (int i = 0; i < service->method_count(); ++i) {
    absl::StrAppend(&names, i == 0 ? "" : ", ", service->method(i)->name());
  }
  vars["names"] = names;
  p.Print(vars,
          "const ::google::protobuf::ServiceDescriptor* "
          "$service$Actor::descriptor() {\n"
          "  static const ::google::protobuf::ServiceDescriptor* const "
          "service =\n"
          "      ::troupe::FindService(\"$full$\");\n"
          "  return service;\n"
          "}\n\n");
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* m = service->method(i);
    p.Print(Vars(m),
            m->server_streaming()
                ? "void $service$Actor::$method$(::troupe::ActorContext& "
                  "ctx, const $in$& /*request*/,\n"
                  "    ::troupe::ServerStream<$out$> stream) {\n"
                  "  stream.Close(::troupe::NotImplemented(ctx));\n"
                  "}\n\n"
                : "void $service$Actor::$method$(::troupe::ActorContext& "
                  "ctx, const $in$& /*request*/,\n"
                  "    ::troupe::Responder<$out$> reply) {\n"
                  "  reply.Fail(::troupe::NotImplemented(ctx));\n"
                  "}\n\n");
  }
  p.Print(
      vars,
      "::absl::Status $service$Actor::ReceiveOther(::troupe::ActorContext& "
      "/*ctx*/,\n"
      "    const ::troupe::Message& /*message*/) {\n"
      "  return ::absl::OkStatus();\n"
      "}\n\n"
      "::absl::Status $service$Actor::Receive(::troupe::ActorContext& ctx,\n"
      "                                       const ::troupe::Message& "
      "message) {\n"
      "  switch (::troupe::MethodIndexOf(ctx, message, descriptor())) {\n"
      "    case ::troupe::kNotACall:\n"
      "      return ReceiveOther(ctx, message);\n");
  for (int i = 0; i < service->method_count(); ++i) {
    const MethodDescriptor* m = service->method(i);
    p.Print(Vars(m),
            m->server_streaming()
                ? "    case $index$:\n"
                  "      $method$(ctx, static_cast<const $in$&>(message),\n"
                  "          ::troupe::ServerStream<$out$>(ctx));\n"
                  "      break;\n"
                : "    case $index$:\n"
                  "      $method$(ctx, static_cast<const $in$&>(message),\n"
                  "          ::troupe::Responder<$out$>(ctx));\n"
                  "      break;\n");
  }
  p.Print(
      vars,
      "    default:  // answered by MethodIndexOf\n"
      "      break;\n"
      "  }\n"
      "  return ::absl::OkStatus();\n"
      "}\n\n"
      "::troupe::Kind $service$Actor::KindOf(std::string name, "
      "::troupe::KindMaker make) {\n"
      "  return ::troupe::Kind{std::move(name), \"serves $full$ ($names$)\",\n"
      "                        std::move(make), {descriptor()}};\n"
      "}\n\n");
}

// Names an rpc cannot have: the generated classes' own members and the
// Actor hooks they derive.
constexpr absl::string_view kReserved[] = {
    "Receive",     "ReceiveOther", "Started", "Stopped", "PreRestart",
    "PostRestart", "descriptor",   "KindOf",  "ref",     "supervisor_strategy"};

class TroupeGenerator final : public google::protobuf::compiler::CodeGenerator {
 public:
  // proto3 `optional` fields change nothing here.
  uint64_t GetSupportedFeatures() const override {
    return FEATURE_PROTO3_OPTIONAL;
  }

  bool Generate(const FileDescriptor* file, const std::string& /*parameter*/,
                GeneratorContext* context, std::string* error) const override {
    for (int s = 0; s < file->service_count(); ++s) {
      const ServiceDescriptor* service = file->service(s);
      for (int i = 0; i < service->method_count(); ++i) {
        const MethodDescriptor* m = service->method(i);
        if (absl::c_linear_search(kReserved, m->name())) {
          *error = absl::StrCat(
              file->name(), ": ", m->full_name(), " would hide ", m->name(),
              " of the generated actor base or ref; rename the rpc (reserved: ",
              absl::StrJoin(kReserved, ", "), ")");
          return false;
        }
        if (m->client_streaming()) {
          *error = absl::StrCat(
              file->name(), ": ", m->full_name(),
              " streams from the client; a typed actor serves unary and "
              "server-streaming methods only");
          return false;
        }
      }
    }
    const std::string base =
        google::protobuf::compiler::cpp::StripProto(file->name());
    const std::string ns = Namespace(file);
    {
      std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(
          context->Open(base + ".troupe.h"));
      Printer p(out.get(), '$');
      p.Print({{"file", file->name()}, {"base", base}},
              "// Generated by protoc-gen-troupe from $file$. Do not edit.\n"
              "#pragma once\n\n"
              "#include <future>\n"
              "#include <string>\n"
              "#include <utility>\n\n"
              "#include \"absl/status/status.h\"\n"
              "#include \"absl/status/statusor.h\"\n"
              "#include \"absl/time/time.h\"\n"
              "#include \"$base$.pb.h\"\n"
              "#include \"node/runtime/actor.h\"\n"
              "#include \"node/runtime/actor_context.h\"\n"
              "#include \"node/service/kinds.h\"\n"
              "#include \"node/typed/responder.h\"\n"
              "#include \"node/typed/typed_call.h\"\n\n");
      if (!ns.empty()) {
        p.Print({{"ns", ns}}, "namespace $ns$ {\n\n");
      }
      for (int s = 0; s < file->service_count(); ++s) {
        HeaderService(file->service(s), p);
      }
      if (!ns.empty()) {
        p.Print({{"ns", ns}}, "}  // namespace $ns$\n");
      }
    }
    {
      std::unique_ptr<google::protobuf::io::ZeroCopyOutputStream> out(
          context->Open(base + ".troupe.cc"));
      Printer p(out.get(), '$');
      p.Print({{"file", file->name()}, {"base", base}},
              "// Generated by protoc-gen-troupe from $file$. Do not edit.\n"
              "#include \"$base$.troupe.h\"\n\n");
      if (!ns.empty()) {
        p.Print({{"ns", ns}}, "namespace $ns$ {\n\n");
      }
      for (int s = 0; s < file->service_count(); ++s) {
        SourceService(file->service(s), p);
      }
      if (!ns.empty()) {
        p.Print({{"ns", ns}}, "}  // namespace $ns$\n");
      }
    }
    return true;
  }
};

}  // namespace
}  // namespace troupe

int main(int argc, char* argv[]) {
  troupe::TroupeGenerator generator;
  return google::protobuf::compiler::PluginMain(argc, argv, &generator);
}
