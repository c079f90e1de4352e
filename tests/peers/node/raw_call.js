#!/usr/bin/env node
// One gRPC call through @grpc/grpc-js with opaque bytes, for calls through the gateway.
//
// Usage: node raw_call.js <host:port> <unary|server_stream> </package.Service/Method> <request base64> <metadata JSON>
// Prints one JSON line: {"code": int, "details": str, "responses": [base64, ...]}.
'use strict';

const grpc = require('@grpc/grpc-js');

const [target, kind, method, request, metadataJson] = process.argv.slice(2);
const client = new grpc.Client(target, grpc.credentials.createInsecure());
const metadata = new grpc.Metadata();
for (const [key, value] of Object.entries(JSON.parse(metadataJson))) {
  metadata.add(key, value);
}
const identity = (buffer) => buffer;
const payload = Buffer.from(request, 'base64');
const deadline = { deadline: Date.now() + 30000 };
const responses = [];

function done(code, details) {
  process.stdout.write(JSON.stringify({ code, details: details || '', responses: responses.map((r) => r.toString('base64')) }) + '\n');
  client.close();
}

if (kind === 'unary') {
  client.makeUnaryRequest(method, identity, identity, payload, metadata, deadline, (error, response) => {
    if (error) {
      done(error.code, error.details);
      return;
    }
    responses.push(response);
    done(0, '');
  });
} else {
  const call = client.makeServerStreamRequest(method, identity, identity, payload, metadata, deadline);
  call.on('data', (response) => responses.push(response));
  call.on('error', () => {});
  call.on('status', (status) => done(status.code, status.details));
}
