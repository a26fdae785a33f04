#!/usr/bin/python3
"""troupe from Python: a client of a node's ActorService, with code generated
from proto/troupe.proto at build time. It spawns a counter, tells it, asks
it, opens an inbox (a Pid on the node whose messages stream back here) to
talk to an echo actor, watches the counter until it is stopped, and calls
the stock counter as a typed actor (troupe.v1.Counter) with its own stub.

    bazel run //examples/python_client            # starts its own node
    /usr/bin/python3 client.py --node=HOST:PORT   # against a running node
"""

import argparse
import queue
import sys

import grpc
from google.protobuf import any_pb2
from google.protobuf import wrappers_pb2

from proto import kinds_pb2
from proto import kinds_pb2_grpc
from proto import troupe_pb2
from proto import troupe_pb2_grpc


def ref(pid):
    return f"troupe://{pid.address}/{pid.id}"


def pack(message):
    any_message = any_pb2.Any()
    any_message.Pack(message)
    return any_message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--node", required=True, help="the node, host:port")
    parser.add_argument("--secret_file", help="file holding the cluster secret")
    args = parser.parse_args()
    metadata = []
    if args.secret_file:
        with open(args.secret_file) as f:
            metadata = [("x-troupe-secret", f.read().strip())]

    with grpc.insecure_channel(args.node) as channel:
        stub = troupe_pb2_grpc.ActorServiceStub(channel)
        timeout = 10

        # Spawn a counter starting at 10; tell it +5; ask its value.
        counter = stub.Spawn(
            troupe_pb2.SpawnRequest(
                kind="counter", name="py-counter",
                init=pack(wrappers_pb2.Int64Value(value=10))),
            metadata=metadata, timeout=timeout)
        print(f"spawned counter {ref(counter)}")
        stub.Tell(troupe_pb2.TellRequest(
            target=counter, message=pack(kinds_pb2.CounterAdd(delta=5))),
            metadata=metadata, timeout=timeout)
        reply = stub.Ask(troupe_pb2.AskRequest(
            target=counter, message=pack(kinds_pb2.CounterGet())),
            metadata=metadata, timeout=timeout)
        value = wrappers_pb2.Int64Value()
        reply.message.Unpack(value)
        print(f"counter value: {value.value}")

        # An inbox: tells on the stream come from the inbox's Pid, so the
        # echo's reply streams back here.
        echo = stub.Spawn(troupe_pb2.SpawnRequest(kind="echo", name="py-echo"),
                          metadata=metadata, timeout=timeout)
        outgoing = queue.Queue()

        def requests():
            while True:
                request = outgoing.get()
                if request is None:
                    return
                yield request

        events = stub.Inbox(requests(), metadata=metadata, timeout=timeout)
        inbox = next(events).inbox
        print(f"inbox {ref(inbox)}")
        outgoing.put(troupe_pb2.InboxRequest(tell=troupe_pb2.TellRequest(
            target=echo,
            message=pack(wrappers_pb2.StringValue(value="hello from Python")))))
        delivery = next(events).delivery
        text = wrappers_pb2.StringValue()
        delivery.message.Unpack(text)
        print(f"inbox received '{text.value}' from {ref(delivery.sender)}")
        outgoing.put(None)
        for _ in events:  # the node ends the stream once we are done
            pass

        # Watch the counter; the response headers say the watch is in place.
        watch = stub.Watch(troupe_pb2.WatchRequest(target=counter),
                           metadata=metadata, timeout=timeout)
        watch.initial_metadata()
        stub.Stop(troupe_pb2.StopRequest(target=counter, graceful=True),
                  metadata=metadata, timeout=timeout)
        terminated = next(watch)
        reason = troupe_pb2.TerminationReason.Name(terminated.reason)
        print(f"terminated {ref(terminated.ref)} {reason}")

        # The stock counter is also a typed actor: the node serves
        # troupe.v1.Counter, so its own stub calls it, naming the actor by
        # kind and key (activated on the first call).
        counters = kinds_pb2_grpc.CounterStub(channel)
        visits = metadata + [("troupe-kind", "counter"), ("troupe-key", "visits")]
        for _ in range(2):
            value = counters.Add(kinds_pb2.CounterAdd(delta=1),
                                 metadata=visits, timeout=timeout)
        print(f"typed counter visits: {value.value}")

        # Errors are gRPC status codes with a message a person can act on.
        try:
            stub.Spawn(troupe_pb2.SpawnRequest(kind="no-such-kind"),
                       metadata=metadata, timeout=timeout)
        except grpc.RpcError as error:
            print(f"spawn of an unknown kind: {error.code().name}: "
                  f"{error.details()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
