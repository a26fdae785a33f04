#!/usr/bin/python3
"""Greets a troupe Greeter actor from Python, with stubs that Debian's protoc
and grpc_python_plugin generate from greeter.proto alone: nothing of
troupe's is imported. The actor is named in the call's metadata: the
identity (kind "greeter", a key), placed on the node --on (default: the
node called). Its first call activates it; later calls reach it again.

    protoc -I. --python_out=. --grpc_python_out=. \\
        --plugin=protoc-gen-grpc_python=/usr/bin/grpc_python_plugin greeter.proto
    /usr/bin/python3 client.py --node=HOST:PORT [--on=HOST:PORT] [--key=KEY]
"""

import argparse

import grpc

import greeter_pb2
import greeter_pb2_grpc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", required=True, help="the node to call, host:port")
    parser.add_argument("--on", default="", help="the node the greeter lives on")
    parser.add_argument("--key", default="py", help="which greeter (its key)")
    args = parser.parse_args()

    stub = greeter_pb2_grpc.GreeterStub(grpc.insecure_channel(args.node))
    who = [("troupe-kind", "greeter"), ("troupe-key", args.key)]
    if args.on:
        who.append(("troupe-node", args.on))

    for name in ["Ada", "Grace"]:
        reply = stub.Greet(greeter_pb2.HelloRequest(name=name), metadata=who, timeout=5)
        print(f"python: {reply.message} (from {reply.greeter}, greeting {reply.count})")
    many = greeter_pb2.GreetManyRequest(name="Linus", times=3)
    for reply in stub.GreetMany(many, metadata=who, timeout=5):
        print(f"python stream: {reply.message} (greeting {reply.count})")
    try:
        stub.Greet(greeter_pb2.HelloRequest(), metadata=who, timeout=5)
    except grpc.RpcError as error:
        print(f"python: empty name: {error.code().name}: {error.details()}")


if __name__ == "__main__":
    main()
