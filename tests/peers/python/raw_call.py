#!/usr/bin/python3
"""One gRPC call through the C core with opaque bytes, for calls through the gateway.

Usage: raw_call.py <host:port> <unary|server_stream> </package.Service/Method> <request base64> <metadata JSON>
Prints one JSON line: {"code": int, "details": str, "responses": [base64, ...]}.
"""

import base64
import json
import sys

import grpc


def main(argv):
    target, kind, method, request, metadata = argv[1:6]
    payload = base64.b64decode(request)
    pairs = tuple(json.loads(metadata).items())
    responses = []
    with grpc.insecure_channel(target) as channel:
        try:
            if kind == "unary":
                call = channel.unary_unary(method)
                response, state = call.with_call(payload, metadata=pairs, timeout=30)
                responses.append(response)
                code, details = state.code(), state.details()
            else:
                call = channel.unary_stream(method)(payload, metadata=pairs, timeout=30)
                for response in call:
                    responses.append(response)
                code, details = call.code(), call.details()
        except grpc.RpcError as error:
            code, details = error.code(), error.details()
    print(json.dumps({
        "code": code.value[0],
        "details": details or "",
        "responses": [base64.b64encode(r).decode() for r in responses],
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
