#!/usr/bin/python3
"""Independent gRPC interop peer built on the gRPC C core (Debian python3-grpcio).

Usage:
  peer.py server                       listen on 127.0.0.1:<os port>, print "LISTENING <port>"
  peer.py client <host:port> <scenario> run one scenario, print one JSON line

Message classes are built at run time from the binary FileDescriptorSet named by
KETENMESH_INTEROP_DESCRIPTORS (interop.proto plus its imports and google/rpc/*).
Only stdout carries the protocol output; everything else goes to stderr.
"""

import base64
import json
import os
import queue
import signal
import sys
import threading
import time
import uuid
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

SERVICE = "ketenmesh.testing.v1.InteropTestService"
PKG = "ketenmesh.testing.v1"
FOUR_MB = 4 * 1024 * 1024
UNICODE_MESSAGE = "Registratie van Zoë bestaat al — 登録済み ✓ 100%"
STATUS_BY_CODE = {s.value[0]: s for s in grpc.StatusCode}


def log(*args):
    print("[python-peer]", *args, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Message classes from the descriptor set


def load_messages():
    path = os.environ.get("KETENMESH_INTEROP_DESCRIPTORS")
    if not path:
        raise SystemExit("KETENMESH_INTEROP_DESCRIPTORS is not set")
    with open(path, "rb") as f:
        fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())

    pool = descriptor_pool.DescriptorPool()
    by_name = {fd.name: fd for fd in fds.file}
    added = set()

    def add(name):
        if name in added:
            return
        fd = by_name.get(name)
        if fd is None:
            raise SystemExit("descriptor set lacks %s (build it with --include_imports)" % name)
        for dep in fd.dependency:
            add(dep)
        pool.Add(fd)
        added.add(name)

    for name in by_name:
        add(name)

    factory = message_factory.MessageFactory(pool)

    def cls(full_name):
        desc = pool.FindMessageTypeByName(full_name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(desc)
        return factory.GetPrototype(desc)

    class M:
        pass

    m = M()
    m.Empty = cls("google.protobuf.Empty")
    m.Any = cls("google.protobuf.Any")
    m.Status = cls("google.rpc.Status")
    m.BadRequest = cls("google.rpc.BadRequest")
    for n in ("EchoRequest", "EchoResponse", "CountRequest", "StreamItem", "CollectResponse",
              "WasCancelledRequest", "WasCancelledResponse", "StatusToReturn"):
        setattr(m, n, cls(PKG + "." + n))
    return m


def ser(msg):
    return msg.SerializeToString()


def deser(cls):
    return cls.FromString


# --------------------------------------------------------------------------------------------
# Server


class Probes:
    def __init__(self):
        self._lock = threading.Lock()
        self._seen = set()
        self._cancelled = set()

    def seen(self, probe):
        if probe:
            with self._lock:
                self._seen.add(probe)

    def cancelled(self, probe):
        if probe:
            with self._lock:
                self._cancelled.add(probe)

    def state(self, probe):
        with self._lock:
            return probe in self._seen, probe in self._cancelled


def status_code(code):
    return STATUS_BY_CODE.get(code, grpc.StatusCode.UNKNOWN)


class Servicer:
    def __init__(self, m):
        self.m = m
        self.probes = Probes()

    def rich_details(self, code, message):
        m = self.m
        bad = m.BadRequest()
        v = bad.field_violations.add()
        v.field = "observed_on"
        v.description = "must not be in the future"
        st = m.Status(code=code, message=message)
        any_ = st.details.add()
        any_.type_url = "type.googleapis.com/google.rpc.BadRequest"
        any_.value = bad.SerializeToString()
        return st.SerializeToString()

    def empty(self, request, context):
        return self.m.Empty()

    def echo(self, request, context):
        self.probes.seen(request.probe_id)
        if request.delay_ms > 0:
            ended = threading.Event()
            context.add_callback(ended.set)
            until = time.monotonic() + request.delay_ms / 1000.0
            while True:
                remaining = until - time.monotonic()
                if remaining <= 0:
                    break
                ended.wait(min(0.02, remaining))
                left = context.time_remaining()
                if ended.is_set() or not context.is_active() or (left is not None and left <= 0):
                    self.probes.cancelled(request.probe_id)
                    log("echo: call cancelled during delay (probe=%r)" % request.probe_id)
                    context.abort(grpc.StatusCode.CANCELLED, "cancelled")

        trailers = []
        if request.echo_metadata:
            echoed = [(k, v) for k, v in context.invocation_metadata() if k.startswith("x-echo-")]
            context.send_initial_metadata(tuple(echoed))
            trailers.extend(echoed)

        if request.HasField("status"):
            code = request.status.code
            message = request.status.message
            if request.rich_error:
                trailers.append(("grpc-status-details-bin", self.rich_details(code, message)))
            if trailers:
                context.set_trailing_metadata(tuple(trailers))
            if code != 0:
                context.abort(status_code(code), message)
            context.set_details(message)
            return self.m.EchoResponse()

        if trailers:
            context.set_trailing_metadata(tuple(trailers))
        payload = bytes(request.response_size) if request.response_size > 0 else request.payload
        # The C core strips grpc-encoding from the application metadata, so it is reported
        # only if some transport happens to leave it visible.
        encoding = ""
        for k, v in context.invocation_metadata():
            if k == "grpc-encoding" and isinstance(v, str):
                encoding = v
        return self.m.EchoResponse(payload=payload, request_encoding=encoding)

    def count(self, request, context):
        for i in range(request.count):
            if i > 0 and request.interval_ms > 0:
                time.sleep(request.interval_ms / 1000.0)
            if not context.is_active():
                return
            yield self.m.StreamItem(index=i, payload=b"a" * max(request.size, 0))
        if request.HasField("final_status") and request.final_status.code != 0:
            context.abort(status_code(request.final_status.code), request.final_status.message)

    def collect(self, request_iterator, context):
        n = 0
        total = 0
        for item in request_iterator:
            n += 1
            total += len(item.payload)
        return self.m.CollectResponse(count=n, total_bytes=total)

    def converse(self, request_iterator, context):
        for item in request_iterator:
            yield self.m.StreamItem(index=item.index, payload=item.payload)

    def was_cancelled(self, request, context):
        seen, cancelled = self.probes.state(request.probe_id)
        return self.m.WasCancelledResponse(seen=seen, cancelled=cancelled)


def run_server(m):
    s = Servicer(m)
    handlers = {
        "Empty": grpc.unary_unary_rpc_method_handler(
            s.empty, request_deserializer=deser(m.Empty), response_serializer=ser),
        "Echo": grpc.unary_unary_rpc_method_handler(
            s.echo, request_deserializer=deser(m.EchoRequest), response_serializer=ser),
        "Count": grpc.unary_stream_rpc_method_handler(
            s.count, request_deserializer=deser(m.CountRequest), response_serializer=ser),
        "Collect": grpc.stream_unary_rpc_method_handler(
            s.collect, request_deserializer=deser(m.StreamItem), response_serializer=ser),
        "Converse": grpc.stream_stream_rpc_method_handler(
            s.converse, request_deserializer=deser(m.StreamItem), response_serializer=ser),
        "WasCancelled": grpc.unary_unary_rpc_method_handler(
            s.was_cancelled, request_deserializer=deser(m.WasCancelledRequest),
            response_serializer=ser),
    }
    # Default limits on purpose (4 MB receive): the tests check them.
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=32))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    if port == 0:
        raise SystemExit("could not bind 127.0.0.1:0")
    server.start()

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        # os.read, not sys.stdin: a daemon thread blocked inside the buffered reader makes
        # interpreter shutdown abort.
        try:
            while os.read(0, 4096):
                pass
        except Exception:  # stdin unusable: treat like closed
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()

    sys.stdout.write("LISTENING %d\n" % port)
    sys.stdout.flush()
    log("serving on 127.0.0.1:%d" % port)

    while not stop.wait(0.2):
        pass
    log("stopping")
    server.stop(0.5).wait(2)
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown: the stdin watcher and gRPC threads may still be blocked.
    os._exit(0)


# --------------------------------------------------------------------------------------------
# Client


def code_of(c):
    return c.value[0] if c is not None else 2


def md_to_json(md):
    out = {}
    for k, v in md or ():
        if not k.startswith("x-echo-"):
            continue
        if k.endswith("-bin"):
            raw = v if isinstance(v, bytes) else v.encode()
            out[k] = base64.b64encode(raw).decode("ascii")
        else:
            out[k] = v.decode("utf-8") if isinstance(v, bytes) else v
    return out


class Client:
    def __init__(self, target, m):
        self.m = m
        self.channel = grpc.insecure_channel(target)

    def uu(self, method, resp_cls):
        return self.channel.unary_unary("/%s/%s" % (SERVICE, method),
                                        request_serializer=ser,
                                        response_deserializer=deser(resp_cls))

    def echo(self):
        return self.uu("Echo", self.m.EchoResponse)

    def close(self):
        self.channel.close()

    # Each scenario returns a dict.

    def empty(self):
        try:
            self.uu("Empty", self.m.Empty)(self.m.Empty(), timeout=30)
            return {"code": 0, "message": ""}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or ""}

    def large_unary(self):
        n = FOUR_MB - 64
        req = self.m.EchoRequest(payload=bytes(n), response_size=n)
        try:
            resp = self.echo()(req, timeout=60)
            return {"code": 0, "message": "", "response_bytes": len(resp.payload)}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or "", "response_bytes": 0}

    def too_large_unary(self):
        req = self.m.EchoRequest(payload=bytes(FOUR_MB + 1))
        try:
            self.echo()(req, timeout=60)
            return {"code": 0, "message": ""}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or ""}

    def server_streaming(self):
        call = self.channel.unary_stream("/%s/Count" % SERVICE, request_serializer=ser,
                                         response_deserializer=deser(self.m.StreamItem))(
            self.m.CountRequest(count=5, size=16), timeout=30)
        indexes, sizes = [], []
        try:
            for item in call:
                indexes.append(item.index)
                sizes.append(len(item.payload))
        except grpc.RpcError:
            pass
        return {"code": code_of(call.code()), "message": call.details() or "",
                "indexes": indexes, "sizes": sizes}

    def client_streaming(self):
        items = [self.m.StreamItem(index=i, payload=bytes(i * 10)) for i in range(7)]
        fn = self.channel.stream_unary("/%s/Collect" % SERVICE, request_serializer=ser,
                                       response_deserializer=deser(self.m.CollectResponse))
        try:
            resp = fn(iter(items), timeout=30)
            return {"code": 0, "message": "", "count": resp.count, "total_bytes": resp.total_bytes}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or "",
                    "count": 0, "total_bytes": 0}

    def bidi(self):
        outbox = queue.Queue()

        def requests():
            while True:
                item = outbox.get()
                if item is None:
                    return
                yield item

        call = self.channel.stream_stream("/%s/Converse" % SERVICE, request_serializer=ser,
                                          response_deserializer=deser(self.m.StreamItem))(
            requests(), timeout=30)
        indexes = []
        try:
            for i in range(4):
                outbox.put(self.m.StreamItem(index=i, payload=bytes(i + 1)))
                echo = next(call)  # wait for the echo before writing the next item
                indexes.append(echo.index)
            outbox.put(None)
            for echo in call:
                indexes.append(echo.index)
        except StopIteration:
            outbox.put(None)
        except grpc.RpcError:
            outbox.put(None)
        return {"code": code_of(call.code()), "message": call.details() or "", "indexes": indexes}

    def unicode_status(self):
        req = self.m.EchoRequest(status=self.m.StatusToReturn(code=9, message=UNICODE_MESSAGE))
        try:
            self.echo()(req, timeout=30)
            return {"code": 0, "message": ""}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or ""}

    def status(self, code):
        # "status:<code>": the server ends Echo with that code and a message with non-ASCII text.
        req = self.m.EchoRequest(status=self.m.StatusToReturn(code=code, message="status %d für Zoë" % code))
        try:
            self.echo()(req, timeout=30)
            return {"code": 0, "message": ""}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or ""}

    def rich_error(self):
        req = self.m.EchoRequest(status=self.m.StatusToReturn(code=3, message="signal is invalid"),
                                 rich_error=True)
        out = {"code": 0, "message": "", "details_code": None, "violations": []}
        try:
            self.echo()(req, timeout=30)
            return out
        except grpc.RpcError as e:
            out["code"] = code_of(e.code())
            out["message"] = e.details() or ""
            for k, v in e.trailing_metadata() or ():
                if k == "grpc-status-details-bin":
                    st = self.m.Status.FromString(v)
                    out["details_code"] = st.code
                    out["details_message"] = st.message
                    for d in st.details:
                        if d.type_url.endswith("/google.rpc.BadRequest"):
                            bad = self.m.BadRequest.FromString(d.value)
                            for fv in bad.field_violations:
                                out["violations"].append(
                                    {"field": fv.field, "description": fv.description})
            return out

    def unimplemented(self):
        codes, messages = [], []
        for path in ("/%s/NoSuchMethod" % SERVICE, "/ketenmesh.testing.v1.NoSuchService/Echo"):
            fn = self.channel.unary_unary(path)  # raw bytes in, raw bytes out
            try:
                fn(b"", timeout=30)
                codes.append(0)
                messages.append("")
            except grpc.RpcError as e:
                codes.append(code_of(e.code()))
                messages.append(e.details() or "")
        return {"codes": codes, "messages": messages}

    def deadline(self):
        start = time.monotonic()
        try:
            self.echo()(self.m.EchoRequest(delay_ms=5000), timeout=0.3)
            code, message = 0, ""
        except grpc.RpcError as e:
            code, message = code_of(e.code()), e.details() or ""
        elapsed = int((time.monotonic() - start) * 1000)
        return {"code": code, "message": message, "elapsed_ms": elapsed}

    def cancel(self):
        probe = "py-" + uuid.uuid4().hex
        fut = self.echo().future(self.m.EchoRequest(delay_ms=5000, probe_id=probe), timeout=30)
        was = self.uu("WasCancelled", self.m.WasCancelledResponse)
        # Cancel once the server's handler runs, not after a guess at how long connecting takes.
        ready_by = time.monotonic() + 5.0
        while time.monotonic() < ready_by:
            try:
                if was(self.m.WasCancelledRequest(probe_id=probe), timeout=5).seen:
                    break
            except grpc.RpcError:
                break
            time.sleep(0.02)
        fut.cancel()
        code = code_of(fut.code())
        message = fut.details() or ""
        seen = cancelled = False
        until = time.monotonic() + 3.0
        probe_error = None
        while True:
            try:
                r = was(self.m.WasCancelledRequest(probe_id=probe), timeout=5)
            except grpc.RpcError as e:
                probe_error = "%s: %s" % (code_of(e.code()), e.details())
                break
            seen, cancelled = r.seen, r.cancelled
            if cancelled or time.monotonic() >= until:
                break
            time.sleep(0.05)
        out = {"code": code, "message": message, "probe_seen": seen, "probe_cancelled": cancelled}
        if probe_error is not None:
            out["probe_error"] = probe_error
        return out

    def metadata(self):
        md = (("x-echo-text", "Ketenmesh keten 1.0"),
              ("x-echo-bin", bytes([0, 1, 2, 253, 254, 255])))
        try:
            _, call = self.echo().with_call(self.m.EchoRequest(echo_metadata=True), metadata=md,
                                            timeout=30)
            code, message = 0, ""
            headers, trailers = call.initial_metadata(), call.trailing_metadata()
        except grpc.RpcError as e:
            code, message = code_of(e.code()), e.details() or ""
            headers, trailers = e.initial_metadata(), e.trailing_metadata()
        return {"code": code, "message": message,
                "headers": md_to_json(headers), "trailers": md_to_json(trailers)}

    def gzip(self):
        payload = b"a" * 100000
        try:
            resp = self.echo()(self.m.EchoRequest(payload=payload), timeout=30,
                               compression=grpc.Compression.Gzip)
            return {"code": 0, "message": "", "request_encoding": resp.request_encoding,
                    "response_bytes": len(resp.payload), "payload_matches": resp.payload == payload}
        except grpc.RpcError as e:
            return {"code": code_of(e.code()), "message": e.details() or "",
                    "request_encoding": "", "response_bytes": 0, "payload_matches": False}


SCENARIOS = ("empty", "large_unary", "too_large_unary", "server_streaming", "client_streaming",
             "bidi", "unicode_status", "rich_error", "unimplemented", "deadline", "cancel",
             "metadata", "gzip")


def run_client(m, target, scenario):
    if scenario.startswith("status:") and scenario[7:].isdigit():
        client = Client(target, m)
        try:
            result = client.status(int(scenario[7:]))
        finally:
            client.close()
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()
        return 0
    if scenario not in SCENARIOS:
        log("unknown scenario %r; known: %s" % (scenario, ", ".join(SCENARIOS)))
        return 2
    client = Client(target, m)
    try:
        result = getattr(client, scenario)()
    finally:
        client.close()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


def main(argv):
    if len(argv) >= 2 and argv[1] == "server":
        return run_server(load_messages())
    if len(argv) == 4 and argv[1] == "client":
        return run_client(load_messages(), argv[2], argv[3])
    log("usage: peer.py server | peer.py client <host:port> <scenario>")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
