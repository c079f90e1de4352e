#!/usr/bin/env node
// Independent gRPC interop peer built on @grpc/grpc-js (pure JavaScript HTTP/2 stack).
//
// Usage:
//   node peer.js server                        listen on 127.0.0.1:<os port>, print "LISTENING <port>"
//   node peer.js client <host:port> <scenario>  run one scenario, print one JSON line
//
// .proto files are loaded at run time with @grpc/proto-loader from tests/peers/protos and the
// repository's protos/ (google/rpc). Only stdout carries the protocol output; logs go to stderr.
'use strict';

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const SERVICE = 'ketenmesh.testing.v1.InteropTestService';
const FOUR_MB = 4 * 1024 * 1024;
const UNICODE_MESSAGE = 'Registratie van Zoë bestaat al — 登録済み ✓ 100%';
// Internal metadata key our own interceptor uses to hand the request's grpc-encoding to the handler.
const ENCODING_KEY = 'ketenmesh-peer-request-encoding';

const INCLUDE_DIRS = [
  path.resolve(__dirname, '..', 'protos'), // tests/peers/protos
  path.resolve(__dirname, '..', '..', '..', 'protos'), // <repo>/protos (google/rpc)
];

function log(...args) {
  process.stderr.write('[node-peer] ' + args.join(' ') + '\n');
}

// ------------------------------------------------------------------------------------------------
// Protos

const packageDefinition = protoLoader.loadSync(['ketenmesh/testing/v1/interop.proto'], {
  keepCase: true,
  longs: Number,
  defaults: true,
  includeDirs: INCLUDE_DIRS,
});
const loaded = grpc.loadPackageDefinition(packageDefinition);
const InteropClient = loaded.ketenmesh.testing.v1.InteropTestService;
const serviceDefinition = InteropClient.service;

// google.rpc.Status / BadRequest via protobufjs, for grpc-status-details-bin.
function loadRpcTypes() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    // google/protobuf/*.proto: protobufjs serves its bundled copies by name.
    return target;
  };
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  root.resolveAll();
  return {
    Status: root.lookupType('google.rpc.Status'),
    BadRequest: root.lookupType('google.rpc.BadRequest'),
  };
}
const rpcTypes = loadRpcTypes();

function richDetails(code, message) {
  const bad = rpcTypes.BadRequest.encode(
    rpcTypes.BadRequest.create({
      field_violations: [{ field: 'observed_on', description: 'must not be in the future' }],
    }),
  ).finish();
  const status = rpcTypes.Status.create({
    code,
    message,
    details: [{ type_url: 'type.googleapis.com/google.rpc.BadRequest', value: bad }],
  });
  return Buffer.from(rpcTypes.Status.encode(status).finish());
}

// ------------------------------------------------------------------------------------------------
// Server

const probes = new Map(); // probe id -> { cancelled }

function echoedMetadata(md) {
  const out = new grpc.Metadata();
  const map = md.getMap();
  for (const key of Object.keys(map)) {
    if (!key.startsWith('x-echo-')) continue;
    for (const value of md.get(key)) out.add(key, value);
  }
  return out;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function isStatusSet(s) {
  return s !== null && s !== undefined;
}

const handlers = {
  Empty(call, callback) {
    callback(null, {});
  },

  async Echo(call, callback) {
    const req = call.request;
    if (req.probe_id) probes.set(req.probe_id, { cancelled: false });

    if (req.delay_ms > 0) {
      const until = Date.now() + req.delay_ms;
      let cancelled = call.cancelled;
      const onCancel = () => {
        cancelled = true;
      };
      call.on('cancelled', onCancel);
      while (!cancelled && Date.now() < until) {
        await sleep(Math.min(20, until - Date.now()));
        const deadline = call.getDeadline();
        const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number(deadline);
        if (call.cancelled || (Number.isFinite(deadlineMs) && Date.now() >= deadlineMs)) {
          cancelled = true;
        }
      }
      call.removeListener('cancelled', onCancel);
      if (cancelled) {
        if (req.probe_id) probes.set(req.probe_id, { cancelled: true });
        log(`echo: call cancelled during delay (probe=${JSON.stringify(req.probe_id)})`);
        return; // no answer: the call is over
      }
    }

    const trailers = req.echo_metadata ? echoedMetadata(call.metadata) : new grpc.Metadata();
    if (req.echo_metadata) call.sendMetadata(echoedMetadata(call.metadata));

    if (isStatusSet(req.status)) {
      const { code, message } = req.status;
      if (req.rich_error) trailers.set('grpc-status-details-bin', richDetails(code, message));
      if (code !== 0) {
        callback({ code, details: message, metadata: trailers });
      } else {
        callback(null, { payload: Buffer.alloc(0), request_encoding: '' }, trailers);
      }
      return;
    }

    const payload = req.response_size > 0 ? Buffer.alloc(req.response_size) : req.payload;
    const enc = call.metadata.get(ENCODING_KEY);
    const requestEncoding = enc.length > 0 ? String(enc[0]) : '';
    callback(null, { payload, request_encoding: requestEncoding }, trailers);
  },

  async Count(call) {
    const req = call.request;
    for (let i = 0; i < req.count; i++) {
      if (i > 0 && req.interval_ms > 0) await sleep(req.interval_ms);
      if (call.cancelled) return;
      call.write({ index: i, payload: Buffer.alloc(Math.max(req.size, 0), 0x61) });
    }
    if (isStatusSet(req.final_status) && req.final_status.code !== 0) {
      call.emit('error', { code: req.final_status.code, details: req.final_status.message });
      return;
    }
    call.end();
  },

  Collect(call, callback) {
    let count = 0;
    let total = 0;
    call.on('data', (item) => {
      count += 1;
      total += item.payload.length;
    });
    call.on('end', () => callback(null, { count, total_bytes: total }));
    call.on('error', () => {});
  },

  Converse(call) {
    call.on('data', (item) => call.write({ index: item.index, payload: item.payload }));
    call.on('end', () => call.end());
    call.on('error', () => {});
  },

  WasCancelled(call, callback) {
    const p = probes.get(call.request.probe_id);
    callback(null, { seen: p !== undefined, cancelled: p !== undefined && p.cancelled });
  },
};

// grpc-js removes grpc-encoding from the metadata handed to the application; the base call keeps
// what it saw in `incomingEncoding` (defaults to 'identity', so identity and absent look alike).
function encodingInterceptor(methodDescriptor, nextCall) {
  const seen = typeof nextCall.incomingEncoding === 'string' ? nextCall.incomingEncoding : '';
  return new grpc.ServerInterceptingCall(nextCall, {
    start(next) {
      next({
        onReceiveMetadata(metadata, mdNext) {
          metadata.remove(ENCODING_KEY);
          if (seen && seen !== 'identity') metadata.set(ENCODING_KEY, seen);
          mdNext(metadata);
        },
      });
    },
  });
}

function runServer() {
  // Default limits on purpose (4 MB receive): the tests check them.
  const server = new grpc.Server({ interceptors: [encodingInterceptor] });
  server.addService(serviceDefinition, handlers);
  server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
    if (err) {
      log('bind failed: ' + err.message);
      process.exit(1);
    }
    process.stdout.write(`LISTENING ${port}\n`);
    log(`serving on 127.0.0.1:${port}`);
  });

  let stopping = false;
  const stop = (why) => {
    if (stopping) return;
    stopping = true;
    log('stopping: ' + why);
    server.forceShutdown();
    // Let stdout drain, then leave.
    process.stdout.write('', () => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdin.on('end', () => stop('stdin closed'));
  process.stdin.on('close', () => stop('stdin closed'));
  process.stdin.on('error', () => stop('stdin error'));
  process.stdin.resume();
}

// ------------------------------------------------------------------------------------------------
// Client

function mdToJson(md) {
  const out = {};
  if (!md) return out;
  const map = md.getMap();
  for (const key of Object.keys(map)) {
    if (!key.startsWith('x-echo-')) continue;
    const v = map[key];
    out[key] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
  }
  return out;
}

function deadlineIn(ms) {
  return { deadline: Date.now() + ms };
}

function unary(client, method, request, metadata, options) {
  return new Promise((resolve) => {
    let headers = null;
    const call = client[method](request, metadata || new grpc.Metadata(), options || {}, (err, resp) => {
      // 'status' fires after the callback; collect it on the next turn.
      setImmediate(() => resolve({ err, resp, headers, status: statusSeen }));
    });
    let statusSeen = null;
    call.on('metadata', (md) => {
      headers = md;
    });
    call.on('status', (s) => {
      statusSeen = s;
    });
  });
}

function errCode(err) {
  return err ? (typeof err.code === 'number' ? err.code : 2) : 0;
}

function errMessage(err) {
  return err ? String(err.details !== undefined ? err.details : err.message) : '';
}

const scenarios = {
  async empty(client) {
    const { err } = await unary(client, 'Empty', {}, null, deadlineIn(30000));
    return { code: errCode(err), message: errMessage(err) };
  },

  async large_unary(client) {
    const n = FOUR_MB - 64;
    const { err, resp } = await unary(client, 'Echo', { payload: Buffer.alloc(n), response_size: n }, null, deadlineIn(60000));
    return { code: errCode(err), message: errMessage(err), response_bytes: err ? 0 : resp.payload.length };
  },

  async too_large_unary(client) {
    const { err } = await unary(client, 'Echo', { payload: Buffer.alloc(FOUR_MB + 1) }, null, deadlineIn(60000));
    return { code: errCode(err), message: errMessage(err) };
  },

  server_streaming(client) {
    return new Promise((resolve) => {
      const indexes = [];
      const sizes = [];
      const call = client.Count({ count: 5, size: 16 }, deadlineIn(30000));
      call.on('data', (item) => {
        indexes.push(item.index);
        sizes.push(item.payload.length);
      });
      call.on('error', () => {});
      call.on('status', (s) => resolve({ code: s.code, message: s.details || '', indexes, sizes }));
    });
  },

  client_streaming(client) {
    return new Promise((resolve) => {
      const call = client.Collect(deadlineIn(30000), (err, resp) => {
        resolve({
          code: errCode(err),
          message: errMessage(err),
          count: err ? 0 : resp.count,
          total_bytes: err ? 0 : resp.total_bytes,
        });
      });
      for (let i = 0; i < 7; i++) call.write({ index: i, payload: Buffer.alloc(i * 10) });
      call.end();
    });
  },

  bidi(client) {
    return new Promise((resolve) => {
      const indexes = [];
      const call = client.Converse(deadlineIn(30000));
      let next = 0;
      const writeNext = () => {
        if (next < 4) {
          call.write({ index: next, payload: Buffer.alloc(next + 1) });
          next += 1;
        } else if (next === 4) {
          next += 1;
          call.end(); // half-close, then read to the end
        }
      };
      call.on('data', (item) => {
        indexes.push(item.index);
        writeNext(); // the next write waits for this echo
      });
      call.on('error', () => {});
      call.on('status', (s) => resolve({ code: s.code, message: s.details || '', indexes }));
      writeNext();
    });
  },

  async unicode_status(client) {
    const { err } = await unary(client, 'Echo', { status: { code: 9, message: UNICODE_MESSAGE } }, null, deadlineIn(30000));
    return { code: errCode(err), message: errMessage(err) };
  },

  async rich_error(client) {
    const req = { status: { code: 3, message: 'signal is invalid' }, rich_error: true };
    const { err } = await unary(client, 'Echo', req, null, deadlineIn(30000));
    const out = { code: errCode(err), message: errMessage(err), details_code: null, violations: [] };
    const raw = err && err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
    if (raw.length > 0) {
      const st = rpcTypes.Status.decode(raw[0]);
      out.details_code = st.code;
      out.details_message = st.message;
      for (const d of st.details) {
        if (!d.type_url.endsWith('/google.rpc.BadRequest')) continue;
        const bad = rpcTypes.BadRequest.decode(d.value);
        for (const fv of bad.field_violations) out.violations.push({ field: fv.field, description: fv.description });
      }
    }
    return out;
  },

  async unimplemented(client) {
    const codes = [];
    const messages = [];
    for (const p of [`/${SERVICE}/NoSuchMethod`, '/ketenmesh.testing.v1.NoSuchService/Echo']) {
      const err = await new Promise((resolve) => {
        client.makeUnaryRequest(p, (b) => b, (b) => b, Buffer.alloc(0), deadlineIn(30000), (e) => resolve(e));
      });
      codes.push(errCode(err));
      messages.push(errMessage(err));
    }
    return { codes, messages };
  },

  async deadline(client) {
    const start = process.hrtime.bigint();
    const { err } = await unary(client, 'Echo', { delay_ms: 5000 }, null, deadlineIn(300));
    const elapsed = Number((process.hrtime.bigint() - start) / 1000000n);
    return { code: errCode(err), message: errMessage(err), elapsed_ms: elapsed };
  },

  async cancel(client) {
    const probe = 'node-' + crypto.randomBytes(16).toString('hex');
    let call;
    const done = new Promise((resolve) => {
      call = client.Echo({ delay_ms: 5000, probe_id: probe }, deadlineIn(30000), (err) => resolve(err));
    });
    // Cancel once the server's handler runs, not after a guess at how long connecting takes.
    const readyBy = Date.now() + 5000;
    while (Date.now() < readyBy) {
      const { err, resp } = await unary(client, 'WasCancelled', { probe_id: probe }, null, deadlineIn(5000));
      if (err || resp.seen) break;
      await sleep(20);
    }
    call.cancel();
    const result = await done;
    let seen = false;
    let cancelled = false;
    let probeError = null;
    const until = Date.now() + 3000;
    for (;;) {
      const { err, resp } = await unary(client, 'WasCancelled', { probe_id: probe }, null, deadlineIn(5000));
      if (err) {
        probeError = `${errCode(err)}: ${errMessage(err)}`;
        break;
      }
      seen = resp.seen;
      cancelled = resp.cancelled;
      if (cancelled || Date.now() >= until) break;
      await sleep(50);
    }
    const out = { code: errCode(result), message: errMessage(result), probe_seen: seen, probe_cancelled: cancelled };
    if (probeError !== null) out.probe_error = probeError;
    return out;
  },

  async metadata(client) {
    const md = new grpc.Metadata();
    md.set('x-echo-text', 'Ketenmesh keten 1.0');
    md.set('x-echo-bin', Buffer.from([0, 1, 2, 253, 254, 255]));
    const { err, headers, status } = await unary(client, 'Echo', { echo_metadata: true }, md, deadlineIn(30000));
    const trailers = status ? status.metadata : err ? err.metadata : null;
    return { code: errCode(err), message: errMessage(err), headers: mdToJson(headers), trailers: mdToJson(trailers) };
  },

  async gzip(client, target) {
    // grpc-js compresses requests per channel: use a dedicated client with gzip as the default.
    const gz = new InteropClient(target, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
    });
    try {
      const payload = Buffer.alloc(100000, 'a');
      const { err, resp } = await unary(gz, 'Echo', { payload }, null, deadlineIn(30000));
      return {
        code: errCode(err),
        message: errMessage(err),
        request_encoding: err ? '' : resp.request_encoding,
        response_bytes: err ? 0 : resp.payload.length,
        payload_matches: !err && Buffer.compare(resp.payload, payload) === 0,
      };
    } finally {
      gz.close();
    }
  },
};

// "status:<code>": the server ends Echo with that code and a message with non-ASCII text.
async function statusScenario(client, code) {
  const { err } = await unary(client, 'Echo', { status: { code, message: `status ${code} für Zoë` } }, null, deadlineIn(30000));
  return { code: errCode(err), message: errMessage(err) };
}

async function runClient(target, scenario) {
  const statusMatch = /^status:(\d+)$/.exec(scenario);
  if (statusMatch) {
    const client = new InteropClient(target, grpc.credentials.createInsecure());
    try {
      const result = await statusScenario(client, Number(statusMatch[1]));
      await new Promise((resolve) => process.stdout.write(JSON.stringify(result) + '\n', resolve));
    } finally {
      client.close();
    }
    return 0;
  }
  if (!Object.prototype.hasOwnProperty.call(scenarios, scenario)) {
    log(`unknown scenario ${JSON.stringify(scenario)}; known: ${Object.keys(scenarios).join(', ')}`);
    return 2;
  }
  const client = new InteropClient(target, grpc.credentials.createInsecure());
  let result;
  try {
    result = await scenarios[scenario](client, target);
  } finally {
    client.close();
  }
  await new Promise((resolve) => process.stdout.write(JSON.stringify(result) + '\n', resolve));
  return 0;
}

function main(argv) {
  if (argv.length >= 1 && argv[0] === 'server') {
    runServer();
    return;
  }
  if (argv.length === 3 && argv[0] === 'client') {
    runClient(argv[1], argv[2]).then(
      (rc) => process.exit(rc),
      (e) => {
        log('peer bug: ' + (e && e.stack ? e.stack : e));
        process.exit(1);
      },
    );
    return;
  }
  log('usage: node peer.js server | node peer.js client <host:port> <scenario>');
  process.exit(2);
}

main(process.argv.slice(2));
