// docs/worker-protocol.schema.json against reality: the built worker (dist/worker.js) is driven over
// real pipes with raw frames through a whole session (initialize, inspect, copy, convert, verify and
// a batch between temporary OCI layouts, errors of every kind, cancellation, shutdown, exit), and every
// message it writes is validated against the schema definition that applies: a result by the method
// of the request it answers, a notification by its method, an error by the error envelope (with
// ErrorData when `data` is present). Then our own client (src/worker/client.ts) runs a session
// through a recording tap, and every frame it sends, and every frame it receives, is validated too.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv';
import { LazyImageError } from '../../src/core/errors.js';
import type { Descriptor, OciLayoutStore } from '../../src/core/oci/index.js';
import { WorkerClient } from '../../src/worker/client.js';
import { ErrorCodes, Methods, PROTOCOL_VERSION, type ProgressValue } from '../../src/worker/protocol.js';
import { sampleLayout, tempLayout } from '../helpers/images.js';

const ROOT = resolve(__dirname, '..', '..', '..');
const WORKER = join(ROOT, 'dist', 'worker.js');
const SCHEMA_PATH = join(ROOT, 'docs', 'worker-protocol.schema.json');
const TEST_TIMEOUT_MS = 60_000;
const WAIT_MS = 15_000;

interface Message {
  jsonrpc?: unknown;
  id?: string | number | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

interface ProgressParamsSeen {
  token: string | number;
  value: ProgressValue;
}

// ---------------------------------------------------------------------------------------------
// The schema

const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as { $id: string; $defs: Record<string, unknown> };
// Full strictness, so the schema stays clean for other validators; union types are plain 2020-12.
const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
ajv.addSchema(schema);

function validator(definition: string): ValidateFunction {
  const validate = ajv.getSchema(definition === '' ? schema.$id : `${schema.$id}#/$defs/${definition}`);
  assert.ok(validate, `the schema has no definition ${definition}`);
  return validate;
}

/** Fails with the schema's own complaint if `message` does not match `definition`. */
function expectValid(definition: string, message: unknown, what: string): void {
  const validate = validator(definition);
  if (!validate(message)) {
    assert.fail(`${what} does not match ${definition}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(message)}`);
  }
}

function expectInvalid(definition: string, message: unknown, what: string): void {
  assert.equal(validator(definition)(message), false, `${what} should not match ${definition}: ${JSON.stringify(message)}`);
}

/** The success-response definition for the method of the request answered. */
const RESPONSE_OF: Record<string, string> = {
  [Methods.initialize]: 'InitializeResponse',
  [Methods.shutdown]: 'ShutdownResponse',
  [Methods.convert]: 'ConvertResponse',
  [Methods.copy]: 'CopyResponse',
  [Methods.inspect]: 'InspectResponse',
  [Methods.verify]: 'VerifyResponse',
  [Methods.index]: 'IndexResponse',
  [Methods.optimize]: 'OptimizeResponse',
  [Methods.batch]: 'BatchResponse',
};

/** The definition a client message must match, by its method. */
const CLIENT_MESSAGE_OF: Record<string, string> = {
  [Methods.initialize]: 'InitializeRequest',
  [Methods.initialized]: 'InitializedNotification',
  [Methods.shutdown]: 'ShutdownRequest',
  [Methods.exit]: 'ExitNotification',
  [Methods.cancelRequest]: 'CancelRequestNotification',
  [Methods.convert]: 'ConvertRequest',
  [Methods.copy]: 'CopyRequest',
  [Methods.inspect]: 'InspectRequest',
  [Methods.verify]: 'VerifyRequest',
  [Methods.index]: 'IndexRequest',
  [Methods.optimize]: 'OptimizeRequest',
  [Methods.batch]: 'BatchRequest',
};

/** What a message we send must match: its method's definition, or a bare envelope for a method the protocol does not define. */
function clientDefinition(m: Message): string {
  return CLIENT_MESSAGE_OF[m.method ?? ''] ?? (m.id === undefined ? 'Notification' : 'Request');
}

/**
 * Validates everything a worker wrote, given the requests it was sent (id -> method), and checks
 * what a schema cannot: one answer per request, and the order and arithmetic of progress.
 */
function validateWorkerMessages(received: Message[], requests: Map<string | number, string>): { counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  const count = (name: string): void => void (counts[name] = (counts[name] ?? 0) + 1);
  const answered = new Set<string | number>();
  received.forEach((m, i) => {
    const what = `worker message #${i}`;
    if (m.method !== undefined) {
      assert.equal(m.method, Methods.progress, `${what}: the worker sends no notification but $/progress, got ${m.method}`);
      expectValid('ProgressNotification', m, what);
      expectValid('WorkerMessage', m, what);
      count('ProgressNotification');
      return;
    }
    if (m.error !== undefined) {
      expectValid('ErrorResponse', m, what);
      if (m.error.data !== undefined) expectValid('ErrorData', m.error.data, `${what} error.data`);
      count(`error ${m.error.code}`);
    } else {
      const method = m.id === null || m.id === undefined ? undefined : requests.get(m.id);
      assert.ok(method, `${what} answers id ${JSON.stringify(m.id)}, which no request had`);
      const definition = RESPONSE_OF[method];
      assert.ok(definition, `${what} is a result for ${method}, which has none`);
      expectValid(definition, m, what);
      count(definition);
    }
    expectValid('WorkerMessage', m, what);
    if (m.id !== null && m.id !== undefined) {
      assert.ok(!answered.has(m.id), `${what}: request ${m.id} answered twice`);
      answered.add(m.id);
    }
  });
  checkProgress(received);
  return { counts };
}

/** begin, reports, end, all before the response; done never decreases and never passes total. */
function checkProgress(received: Message[]): void {
  const byToken = new Map<string | number, Array<{ at: number; value: ProgressValue }>>();
  received.forEach((m, at) => {
    if (m.method !== Methods.progress) return;
    const { token, value } = m.params as ProgressParamsSeen;
    const list = byToken.get(token) ?? [];
    list.push({ at, value });
    byToken.set(token, list);
  });
  for (const [token, list] of byToken) {
    const kinds = list.map((p) => p.value.kind);
    assert.equal(kinds[0], 'begin', `token ${token}: progress must start with begin: ${kinds.join(',')}`);
    assert.equal(kinds.at(-1), 'end', `token ${token}: progress must finish with end: ${kinds.join(',')}`);
    assert.ok(kinds.slice(1, -1).every((k) => k === 'report' || k === 'event'), `token ${token}: only reports (and a batch's events) between begin and end: ${kinds.join(',')}`);
    let lastDone = 0;
    for (const { value } of list) {
      if (value.kind !== 'report') continue;
      assert.ok(value.done <= value.total, `token ${token}: done ${value.done} > total ${value.total}`);
      assert.ok(value.done >= lastDone, `token ${token}: done went back from ${lastDone} to ${value.done}`);
      assert.equal(value.done, value.items.reduce((s, i) => s + i.done, 0), `token ${token}: done is not the sum of the items`);
      assert.equal(value.total, value.items.reduce((s, i) => s + i.total, 0), `token ${token}: total is not the sum of the items`);
      for (const item of value.items) assert.ok(item.done <= item.total, `token ${token}: item ${item.id} done ${item.done} > total ${item.total}`);
      lastDone = value.done;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Frames

/** Splits LSP base-protocol frames; strict about what a worker may write. */
class FrameParser {
  private buffer = Buffer.alloc(0);
  readonly messages: Message[] = [];

  constructor(private readonly who: string) {}

  push(data: Buffer): Message[] {
    this.buffer = Buffer.concat([this.buffer, data]);
    const parsed: Message[] = [];
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) break;
      const header = this.buffer.subarray(0, end).toString('latin1');
      const lines = header.split('\r\n');
      const length = lines.map((l) => /^content-length: *(\d+)$/i.exec(l)?.[1]).find((v) => v !== undefined);
      assert.ok(length !== undefined, `${this.who} wrote a frame without Content-Length: ${JSON.stringify(header)}`);
      for (const line of lines) assert.match(line, /^(content-length|content-type): *\S.*$/i, `${this.who} wrote an unexpected header line ${JSON.stringify(line)}`);
      const start = end + 4;
      if (this.buffer.length < start + Number(length)) break;
      const body = this.buffer.subarray(start, start + Number(length)).toString('utf8');
      this.buffer = this.buffer.subarray(start + Number(length));
      let message: Message;
      try {
        message = JSON.parse(body) as Message;
      } catch (e) {
        assert.fail(`${this.who} wrote a body that is not JSON (${(e as Error).message}): ${body}`);
      }
      this.messages.push(message);
      parsed.push(message);
    }
    return parsed;
  }

  /** Nothing may be left over once the stream has ended. */
  finish(): void {
    assert.equal(this.buffer.length, 0, `${this.who} left ${this.buffer.length} bytes that are not a whole frame`);
  }
}

function frame(message: object): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}

/** The worker, spoken to with raw frames; keeps everything it wrote and everything we sent. */
class RawSession {
  readonly child: ChildProcessWithoutNullStreams;
  readonly parser = new FrameParser('the worker');
  /** Requests sent, by id, with their method. */
  readonly requests = new Map<string | number, string>();
  /** Messages we sent that are meant to be valid protocol. */
  readonly sent: Message[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  private readonly waiters: Array<() => void> = [];

  constructor() {
    this.child = spawn(process.execPath, [WORKER], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (d: Buffer) => {
      this.parser.push(d);
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin.on('error', () => undefined);
    this.exited = new Promise((resolvePromise) => this.child.once('exit', (code, signal) => resolvePromise({ code, signal })));
  }

  get messages(): Message[] {
    return this.parser.messages;
  }

  /** Sends a well-formed message (validated against the schema's client side first). */
  send(message: Omit<Message, 'jsonrpc'>): void {
    const full = { jsonrpc: '2.0', ...message };
    this.sent.push(full);
    this.track(full);
    this.child.stdin.write(frame(full));
  }

  /** Sends a message the protocol does not allow, on purpose. */
  sendInvalid(message: object): void {
    this.track(message as Message);
    this.child.stdin.write(frame(message));
  }

  raw(bytes: string): void {
    this.child.stdin.write(Buffer.from(bytes, 'utf8'));
  }

  private track(message: Message): void {
    if (typeof message.method === 'string' && (typeof message.id === 'string' || typeof message.id === 'number')) this.requests.set(message.id, message.method);
  }

  async wait(match: (m: Message) => boolean, what: string): Promise<Message> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within ${WAIT_MS / 1000} s; stderr: ${this.stderr}`);
      await new Promise<void>((resolvePromise) => {
        const timer = setTimeout(resolvePromise, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolvePromise();
        });
      });
    }
  }

  response(id: string | number): Promise<Message> {
    return this.wait((m) => m.id === id && (m.result !== undefined || m.error !== undefined), `answer to request ${id}`);
  }

  async request(id: string | number, method: string, params?: object): Promise<Message> {
    this.send({ id, method, ...(params ? { params } : {}) });
    return this.response(id);
  }

  progress(token: string | number): ProgressValue[] {
    return this.messages.filter((m) => m.method === Methods.progress && (m.params as ProgressParamsSeen).token === token).map((m) => (m.params as ProgressParamsSeen).value);
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

function expectError(reply: Message, code: number, what: string): NonNullable<Message['error']> {
  assert.ok(reply.error, `${what}: expected error ${code}, got ${JSON.stringify(reply.result)}`);
  assert.equal(reply.error.code, code, `${what}: expected error ${code}, got ${JSON.stringify(reply.error)}`);
  return reply.error;
}

interface BatchEventSeen {
  type: 'item' | 'layer';
  outcome?: string;
  layers?: { built: number; reused: number; skipped: number };
}

/**
 * Batch (1.8): the sample image indexed into two destinations of one layout, which share every
 * layer: each layer is indexed once, the second item reuses them all. The progress carried the same
 * events as the result, in order. Sent again, both items are skipped. A plan of another version is
 * -32602.
 */
async function batchSession(peer: RawSession): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'lazyimg-schema-batch-'));
  try {
    const item = (tag: string) => ({ source: `oci:${source.dir}:sample`, destination: `oci:${join(dir, 'out')}:${tag}` });
    const params = {
      plan: { version: 1, defaults: { operation: 'soci-v2', soci: { spanSize: 65536, minLayerSize: 0 } }, items: [item('one'), item('two')] },
      cache: `oci:${join(dir, 'cache')}`,
    };
    const first = await peer.request(40, Methods.batch, { ...params, workDoneToken: 'batch-40' });
    const result = first.result as { events: BatchEventSeen[]; summary: { items: number; done: number; distinctLayers: number; layersBuilt: number; layersReused: number } } | undefined;
    assert.ok(result, `batch failed: ${JSON.stringify(first.error)}`);
    const items = result.events.filter((e) => e.type === 'item');
    assert.deepEqual(items.map((e) => e.outcome), ['done', 'done'], JSON.stringify(result.events));
    const layers = sourceLayers.length;
    assert.deepEqual(items.map((e) => e.layers), [{ built: layers, reused: 0, skipped: 0 }, { built: 0, reused: layers, skipped: 0 }]);
    assert.equal(result.events.filter((e) => e.type === 'layer').length, layers, 'one layer event per layer indexed');
    assert.deepEqual([result.summary.items, result.summary.done, result.summary.distinctLayers, result.summary.layersBuilt, result.summary.layersReused], [2, 2, layers, layers, layers]);
    const carried = peer.progress('batch-40').flatMap((v) => (v.kind === 'event' ? [v.event] : []));
    assert.deepEqual(carried, result.events, 'progress carried every event of the result, in order');

    const again = await peer.request(41, Methods.batch, params);
    const rerun = again.result as { events: BatchEventSeen[]; summary: { skipped: number; layersBuilt: number } } | undefined;
    assert.ok(rerun?.summary.skipped === 2 && rerun.summary.layersBuilt === 0, `the same batch again: ${JSON.stringify(again.error ?? again.result)}`);

    const badPlan = { jsonrpc: '2.0', id: 42, method: Methods.batch, params: { plan: { version: 2, items: [item('three')] } } };
    expectInvalid('BatchRequest', badPlan, 'a plan of version 2');
    peer.sendInvalid(badPlan);
    const refused = expectError(await peer.response(42), ErrorCodes.InvalidParams, 'a plan of version 2');
    assert.match(refused.message, /params\.plan/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Fixtures: two layouts, and registries that hang, want a login, or refuse

let source: OciLayoutStore;
let destination: OciLayoutStore;
let clientDestination: OciLayoutStore;
let imageBytes = 0;
let layerBytes = 0;
let sourceLayers: Descriptor[] = [];
let hanging: { host: string; close(): Promise<void> };
let needsLogin: { host: string; close(): Promise<void> };
let refusing: { host: string; close(): Promise<void> };
let tapDir: string;

/**
 * Speaks plain HTTP but never answers a request: a job against it runs until cancelled. A TLS
 * ClientHello is refused at once, as a plain-HTTP server would, so the client settles on HTTP
 * without waiting for a handshake timeout.
 */
async function startHangingServer(): Promise<{ host: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    socket.once('data', (first: Buffer) => {
      if (first[0] === 0x16) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () => new Promise((resolvePromise) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolvePromise());
    }),
  };
}

/** Answers every request with one status and body. */
async function startHttpServer(status: number, headers: Record<string, string>): Promise<{ host: string; close(): Promise<void> }> {
  const server: HttpServer = createHttpServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify({ errors: [{ code: status === 401 ? 'UNAUTHORIZED' : 'UNKNOWN', message: 'test' }] }));
  });
  await new Promise<void>((resolvePromise) => server.listen(0, '127.0.0.1', resolvePromise));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    close: () => new Promise((resolvePromise) => {
      server.closeAllConnections();
      server.close(() => resolvePromise());
    }),
  };
}

before(async () => {
  source = await sampleLayout();
  destination = await tempLayout('lazyimg-schema-dest-');
  clientDestination = await tempLayout('lazyimg-schema-client-');
  const doc = await source.getManifest(await source.resolve('sample'));
  assert.equal(doc.kind, 'manifest');
  if (doc.kind === 'manifest') {
    sourceLayers = doc.manifest.layers;
    layerBytes = doc.manifest.layers.reduce((s, l) => s + l.size, 0);
    imageBytes = doc.manifest.config.size + layerBytes;
  }
  hanging = await startHangingServer();
  needsLogin = await startHttpServer(401, { 'www-authenticate': 'Basic realm="schema-test"' });
  refusing = await startHttpServer(400, {});
  tapDir = await mkdtemp(join(tmpdir(), 'lazyimg-schema-tap-'));
});

after(async () => {
  await Promise.all([hanging?.close(), needsLogin?.close(), refusing?.close()]);
  await Promise.all([source, destination, clientDestination].filter(Boolean).map((s) => rm(s.dir, { recursive: true, force: true })));
  if (tapDir) await rm(tapDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('worker protocol schema', () => {
  it('is a valid draft 2020-12 schema with a definition for every message', () => {
    for (const name of Object.keys(schema.$defs)) validator(name);
    validator('');
    for (const name of [
      'InitializeParams', 'InitializeResult', 'ConvertParams', 'CopyParams', 'InspectParams', 'VerifyParams', 'ConvertResult', 'CopyResult', 'InspectResult', 'VerifyResult',
      'BatchParams', 'BatchPlan', 'BatchResult', 'BatchItemResult', 'BatchLayerBuilt', 'BatchSummary', 'ProgressEvent',
      'LayerLazyReport', 'LazyCheck', 'LayoutSummary',
      'ProgressParams', 'ProgressBegin', 'ProgressReport', 'ProgressEnd', 'ErrorData', 'RegistryCredential', 'Descriptor', 'Platform',
      'Request', 'Notification', 'SuccessResponse', 'ErrorResponse',
    ]) {
      assert.ok(name in schema.$defs, `missing $defs/${name}`);
    }
  });

  it('matches every message the worker writes in a whole session over raw frames', { timeout: TEST_TIMEOUT_MS }, async () => {
    const peer = new RawSession();
    try {
      const sourceRef = `oci:${source.dir}:sample`;
      const destinationRef = `oci:${destination.dir}:copied`;

      const init = await peer.request(1, Methods.initialize, { protocolVersion: PROTOCOL_VERSION, clientInfo: { name: 'workerSchema.test', version: '1' } });
      assert.ok(init.result, `initialize failed: ${JSON.stringify(init.error)}`);
      peer.send({ method: Methods.initialized, params: {} });

      const inspected = await peer.request(2, Methods.inspect, { reference: sourceRef, workDoneToken: 'inspect-2' });
      assert.ok(inspected.result, `inspect failed: ${JSON.stringify(inspected.error)}`);

      const copied = await peer.request(3, Methods.copy, { source: sourceRef, destination: destinationRef, workDoneToken: 'copy-3' });
      assert.ok(copied.result, `copy failed: ${JSON.stringify(copied.error)}`);
      const copyProgress = peer.progress('copy-3');
      const lastReport = copyProgress.filter((v) => v.kind === 'report').at(-1);
      assert.ok(lastReport?.kind === 'report' && lastReport.done === imageBytes && lastReport.total === imageBytes, `final copy report ${JSON.stringify(lastReport)}, expected ${imageBytes} bytes`);
      const replyAt = peer.messages.indexOf(copied);
      assert.ok(peer.messages.slice(replyAt).every((m) => m.method !== Methods.progress || (m.params as ProgressParamsSeen).token !== 'copy-3'), 'progress after the copy result');

      // A numeric token, to cover both kinds the protocol allows.
      const verified = await peer.request(4, Methods.verify, { reference: destinationRef, workDoneToken: 4 });
      assert.ok(verified.result, `verify failed: ${JSON.stringify(verified.error)}`);
      assert.equal((verified.result as { ok: boolean }).ok, true);
      assert.equal(peer.progress(4)[0]?.kind, 'begin');

      // eStargz: convert with every option, then verify (full and quick) and inspect the result.
      const esgzRef = `oci:${destination.dir}:esgz`;
      const converted = await peer.request(20, Methods.convert, {
        source: sourceRef, destination: esgzRef, format: 'estargz', level: 1, chunkSize: 65536, prioritized: ['/bin/hello', '/no/such/file'], workDoneToken: 'convert-20',
      });
      const convertResult = converted.result as { layers: Array<{ tocDigest: string; seconds?: number }>; missing: string[] } | undefined;
      assert.ok(convertResult, `convert failed: ${JSON.stringify(converted.error)}`);
      assert.deepEqual(convertResult.missing, ['/no/such/file']);
      assert.equal(convertResult.layers.length, 3);
      // Layer times (1.7): each layer's own, within the job's.
      assert.ok(convertResult.layers.every((l) => typeof l.seconds === 'number' && l.seconds >= 0), JSON.stringify(convertResult.layers));
      const convertReport = peer.progress('convert-20').filter((v) => v.kind === 'report').at(-1);
      assert.ok(convertReport?.kind === 'report' && convertReport.items.length === 3 && convertReport.done === layerBytes && convertReport.total === layerBytes, `final convert report ${JSON.stringify(convertReport)}, expected 3 layers of ${layerBytes} bytes`);
      const lazyVerified = await peer.request(21, Methods.verify, { reference: esgzRef, workDoneToken: 'verify-21' });
      const lazyReport = lazyVerified.result as { ok: boolean; layers: Array<{ lazy: { lazy: boolean; chunksVerified: number; layout?: { prefetch: { kind: string }; chunks: number } } }> } | undefined;
      assert.ok(lazyReport?.ok, `verify of the eStargz image: ${JSON.stringify(lazyVerified.error ?? lazyVerified.result)}`);
      assert.ok(lazyReport.layers.every((l) => l.lazy.lazy && l.lazy.chunksVerified === l.lazy.layout?.chunks), JSON.stringify(lazyReport.layers));
      assert.equal(lazyReport.layers[0]?.lazy.layout?.prefetch.kind, 'landmark');
      const quick = await peer.request(22, Methods.verify, { reference: sourceRef, quick: true, workDoneToken: 'quick-22' });
      const quickReport = quick.result as { ok: boolean; blobs: number; bytes: number; layers: Array<{ lazy: { format: string; lazy: boolean } }> } | undefined;
      assert.ok(quickReport?.ok && quickReport.bytes === 0, `quick verify: ${JSON.stringify(quick.error ?? quick.result)}`);
      assert.deepEqual(quickReport.layers.map((l) => [l.lazy.format, l.lazy.lazy]), [['none', false], ['none', false], ['none', false]]);
      const esgzInspected = await peer.request(23, Methods.inspect, { reference: esgzRef });
      const esgzLayers = (esgzInspected.result as { manifests: Array<{ layers: Array<{ lazy?: { format: string; tocDigest: string } }> }> }).manifests[0]?.layers ?? [];
      assert.deepEqual(esgzLayers.map((l) => l.lazy?.tocDigest), convertResult.layers.map((l) => l.tocDigest));
      const soci = expectError(await peer.request(24, Methods.convert, { source: sourceRef, destination: esgzRef, format: 'soci' }), ErrorCodes.InvalidInput, 'an unknown format');
      assert.equal((soci.data as { code?: unknown }).code, 'UNSUPPORTED');
      const badLevel = { jsonrpc: '2.0', id: 25, method: Methods.convert, params: { source: sourceRef, destination: esgzRef, format: 'estargz', level: 12 } };
      expectInvalid('ConvertRequest', badLevel, 'a convert with level 12');
      peer.sendInvalid(badLevel);
      expectError(await peer.response(25), ErrorCodes.InvalidParams, 'level 12');

      // SOCI (1.2): a v2 index of every layer, then verify and inspect find it as the snapshotter would.
      const sociRef = `oci:${destination.dir}:soci`;
      const indexed = await peer.request(26, Methods.index, { source: sourceRef, destination: sociRef, minLayerSize: 0, spanSize: 65536, workDoneToken: 'index-26' });
      const indexResult = indexed.result as { version: string; indexes: Array<{ layers: Array<{ ztoc?: { spans: number }; seconds?: number }> }> } | undefined;
      assert.ok(indexResult, `index failed: ${JSON.stringify(indexed.error)}`);
      assert.equal(indexResult.version, 'v2');
      assert.ok(indexResult.indexes[0]!.layers.every((l) => (l.ztoc?.spans ?? 0) >= 1 && typeof l.seconds === 'number'), JSON.stringify(indexResult));
      const indexReport = peer.progress('index-26').filter((v) => v.kind === 'report').at(-1);
      assert.ok(indexReport?.kind === 'report' && indexReport.done === layerBytes, `final index report ${JSON.stringify(indexReport)}`);
      const sociVerified = await peer.request(27, Methods.verify, { reference: sociRef });
      const sociReport = sociVerified.result as { ok: boolean; soci: Array<{ version: string }>; layers: Array<{ soci?: { lazy: boolean } }> } | undefined;
      assert.ok(sociReport?.ok && sociReport.soci[0]?.version === 'v2' && sociReport.layers.every((l) => l.soci?.lazy), `verify of the SOCI image: ${JSON.stringify(sociVerified.error ?? sociVerified.result)}`);
      const badVersion = { jsonrpc: '2.0', id: 28, method: Methods.index, params: { source: sourceRef, sociVersion: 'v3' } };
      expectInvalid('IndexRequest', badVersion, 'an index with sociVersion v3');
      peer.sendInvalid(badVersion);
      expectError(await peer.response(28), ErrorCodes.InvalidParams, 'sociVersion v3');

      // Deep (1.4): each zTOC against one rebuilt from its layer, each TOC entry against its tar header.
      for (const [id, reference] of [[29, sociRef], [30, esgzRef]] as const) {
        const deep = await peer.request(id, Methods.verify, { reference, deep: true, workDoneToken: `deep-${id}` });
        const report = deep.result as { ok: boolean; deep?: boolean; layers: Array<{ lazy: { headersVerified?: number }; soci?: { rebuilt?: boolean } }> } | undefined;
        assert.ok(report?.ok && report.deep === true, `deep verify of ${reference}: ${JSON.stringify(deep.error ?? deep.result)}`);
        assert.ok(report.layers.every((l) => (id === 29 ? l.soci?.rebuilt === true : (l.lazy.headersVerified ?? 0) > 0)), JSON.stringify(report.layers));
        const items = peer.progress(`deep-${id}`).filter((v) => v.kind === 'report').at(-1);
        assert.ok(items?.kind === 'report' && items.items.filter((i) => i.id.startsWith('deep:')).every((i) => i.done === i.total) && items.done === items.total, `final deep report ${JSON.stringify(items)}`);
      }
      expectError(await peer.request(31, Methods.verify, { reference: sociRef, deep: true, quick: true }), ErrorCodes.InvalidParams, 'deep with quick');

      // Prefetch (1.5): artifacts for the layers holding the files; verify and inspect read them back.
      const prefetchRef = `oci:${destination.dir}:soci-prefetch`;
      const prefetchFiles = ['/bin/hello', '/opt/model/weights.bin', '/app/config.json', '/no/such/file'];
      const withPrefetch = await peer.request(32, Methods.index, { source: sourceRef, destination: prefetchRef, minLayerSize: 0, spanSize: 65536, prefetchFiles });
      const prefetched = (withPrefetch.result as { indexes: Array<{ prefetch?: { artifacts: unknown[]; files: Array<{ path: string }>; missing: string[] } }> } | undefined)?.indexes[0]?.prefetch;
      assert.ok(prefetched?.artifacts.length === 3 && prefetched.files.length === 3, `index with prefetchFiles: ${JSON.stringify(withPrefetch.error ?? withPrefetch.result)}`);
      assert.deepEqual(prefetched.missing, ['/no/such/file']);
      const prefetchVerified = await peer.request(33, Methods.verify, { reference: prefetchRef });
      const prefetchReport = prefetchVerified.result as { ok: boolean; layers: Array<{ soci?: { prefetch?: { spans: number; files: number } } }> } | undefined;
      assert.ok(prefetchReport?.ok && prefetchReport.layers.every((l) => (l.soci?.prefetch?.spans ?? 0) >= 1), `verify with prefetch: ${JSON.stringify(prefetchVerified.error ?? prefetchVerified.result)}`);
      const prefetchInspected = await peer.request(34, Methods.inspect, { reference: prefetchRef });
      const image = (prefetchInspected.result as { manifests: Array<{ soci?: Array<{ prefetch?: number }>; layers: Array<{ soci?: { prefetch?: string } }> }> }).manifests.find((m) => m.soci);
      assert.ok(image?.soci?.[0]?.prefetch === 3 && image.layers.every((l) => l.soci?.prefetch), `inspect with prefetch: ${JSON.stringify(prefetchInspected.result)}`);

      // What a failed job left (1.7): the source's last layer is corrupt, so the job fails once the
      // two layers before it (converted two at a time) are stored; their eStargz blobs stay, listed.
      const failedDir = await mkdtemp(join(tmpdir(), 'lazyimg-schema-failed-'));
      try {
        await cp(source.dir, join(failedDir, 'source'), { recursive: true });
        const last = sourceLayers.at(-1)!;
        await writeFile(join(failedDir, 'source', 'blobs', 'sha256', last.digest.slice(7)), Buffer.alloc(last.size, 0x2a));
        const failed = expectError(await peer.request(35, Methods.convert, {
          source: `oci:${join(failedDir, 'source')}:sample`, destination: `oci:${join(failedDir, 'out')}:esgz`, format: 'estargz', level: 1, workDoneToken: 'failed-35',
        }), ErrorCodes.InvalidInput, 'a convert of a corrupt layer');
        const data = failed.data as { code: string; written?: Array<{ digest: string; mediaType: string; tag?: string }> };
        assert.equal(data.code, 'DIGEST_MISMATCH');
        assert.equal(data.written?.length, 2, JSON.stringify(data));
        assert.ok(data.written.every((w) => w.mediaType === 'application/vnd.oci.image.layer.v1.tar+gzip' && w.tag === undefined), JSON.stringify(data.written));
        const blobs = await readdir(join(failedDir, 'out', 'blobs', 'sha256'));
        assert.deepEqual(blobs.sort(), data.written.map((w) => w.digest.slice(7)).sort(), 'the blobs listed are those in the destination');
        const outIndex = JSON.parse(await readFile(join(failedDir, 'out', 'index.json'), 'utf8')) as { manifests: unknown[] };
        assert.deepEqual(outIndex.manifests, [], 'no manifest after a failed convert');
      } finally {
        await rm(failedDir, { recursive: true, force: true });
      }

      await batchSession(peer);

      expectError(await peer.request(5, 'lazyimg/no-such-method', {}), ErrorCodes.MethodNotFound, 'unknown method');

      const badParams = { jsonrpc: '2.0', id: 6, method: Methods.inspect, params: { reference: 42 } };
      expectInvalid('InspectRequest', badParams, 'an inspect with a numeric reference');
      peer.sendInvalid(badParams);
      expectError(await peer.response(6), ErrorCodes.InvalidParams, 'reference: 42');

      const badReference = expectError(await peer.request(7, Methods.inspect, { reference: 'Not A Reference' }), ErrorCodes.InvalidInput, 'bad reference');
      assert.equal((badReference.data as { code?: unknown }).code, 'INVALID_REFERENCE');

      const missing = expectError(await peer.request(8, Methods.inspect, { reference: `oci:${join(destination.dir, 'missing')}` }), ErrorCodes.InvalidInput, 'missing layout');
      assert.equal((missing.data as { code?: unknown }).code, 'NOT_FOUND');

      const login = expectError(await peer.request(9, Methods.inspect, { reference: `${needsLogin.host}/private/app:1` }), ErrorCodes.AuthenticationRequired, 'registry wanting a login');
      assert.equal((login.data as { registry?: unknown }).registry, needsLogin.host);

      const refused = expectError(await peer.request(10, Methods.inspect, { reference: `${refusing.host}/app:1` }), ErrorCodes.RegistryError, 'registry answering 400');
      assert.equal((refused.data as { status?: unknown }).status, 400);

      // A frame cut short (its body swallows the next header), then one that is not JSON.
      peer.raw('Content-Length: 12\r\n\r\n{"jsonrpc":');
      peer.raw('Content-Length: 4\r\n\r\n}}}}');
      const parseError = await peer.wait((m) => m.error?.code === ErrorCodes.ParseError, 'parse error');
      assert.equal(parseError.id, null);
      const notJsonRpc = { jsonrpc: '2.0', id: 11, method: 42 };
      expectInvalid('Request', notJsonRpc, 'a numeric method');
      peer.sendInvalid(notJsonRpc);
      expectError(await peer.response(11), ErrorCodes.InvalidRequest, 'numeric method');

      // Cancellation: a job that would hang on a registry that never answers.
      peer.send({ id: 12, method: Methods.inspect, params: { reference: `${hanging.host}/slow/app:1`, workDoneToken: 'cancel-12' } });
      await peer.wait((m) => m.method === Methods.progress && (m.params as ProgressParamsSeen).token === 'cancel-12', 'begin of the job to cancel');
      peer.send({ method: Methods.cancelRequest, params: { id: 12 } });
      const cancelled = expectError(await peer.response(12), ErrorCodes.RequestCancelled, 'cancelled inspect');
      assert.equal((cancelled.data as { code?: unknown }).code, 'CANCELLED');
      assert.deepEqual(peer.progress('cancel-12').map((v) => v.kind), ['begin', 'end']);

      const shutdown = await peer.request(13, Methods.shutdown);
      assert.equal(shutdown.result, null);
      expectError(await peer.request(14, Methods.verify, { reference: destinationRef }), ErrorCodes.InvalidRequest, 'request after shutdown');
      peer.send({ method: Methods.exit });
      const exit = await peer.exited;
      assert.equal(exit.code, 0, `exit code after shutdown and exit; stderr: ${peer.stderr}`);
      peer.parser.finish();

      for (const [i, m] of peer.sent.entries()) expectValid(clientDefinition(m), m, `message #${i} sent by the test`);
      const { counts } = validateWorkerMessages(peer.messages, peer.requests);
      for (const name of ['InitializeResponse', 'InspectResponse', 'ConvertResponse', 'CopyResponse', 'VerifyResponse', 'BatchResponse', 'ShutdownResponse', 'ProgressNotification']) {
        assert.ok((counts[name] ?? 0) > 0, `the session should have produced a ${name}: ${JSON.stringify(counts)}`);
      }
      for (const code of [-32700, -32600, -32601, -32602, -32800, -33001, -33002, -33003]) {
        assert.ok((counts[`error ${code}`] ?? 0) > 0, `the session should have produced error ${code}: ${JSON.stringify(counts)}`);
      }
      // Nothing is left half-written in the destination.
      assert.deepEqual((await readdir(destination.dir)).sort(), ['blobs', 'index.json', 'oci-layout']);
    } finally {
      peer.kill();
      await peer.exited;
    }
  });

  it('matches the answers before initialize and the exit code without shutdown', { timeout: TEST_TIMEOUT_MS }, async () => {
    const peer = new RawSession();
    try {
      expectError(await peer.request(1, Methods.inspect, { reference: `oci:${source.dir}:sample` }), ErrorCodes.ServerNotInitialized, 'inspect before initialize');
      const versions = expectError(await peer.request(2, Methods.initialize, { protocolVersion: '99.0' }), ErrorCodes.InvalidParams, 'another major version');
      assert.match(versions.message, /99\.0/);
      const init = await peer.request(3, Methods.initialize, { protocolVersion: PROTOCOL_VERSION, maxConcurrentJobs: 1 });
      assert.equal((init.result as { capabilities: { maxConcurrentJobs: number } }).capabilities.maxConcurrentJobs, 1);
      expectError(await peer.request(4, Methods.initialize, { protocolVersion: PROTOCOL_VERSION }), ErrorCodes.InvalidRequest, 'a second initialize');
      peer.send({ method: Methods.exit });
      assert.equal((await peer.exited).code, 1, 'exit without shutdown');
      peer.parser.finish();
      for (const [i, m] of peer.sent.entries()) expectValid(clientDefinition(m), m, `message #${i} sent by the test`);
      validateWorkerMessages(peer.messages, peer.requests);
    } finally {
      peer.kill();
      await peer.exited;
    }
  });

  it('matches every frame our client sends and receives', { timeout: TEST_TIMEOUT_MS }, async () => {
    const inbound = join(tapDir, 'client-to-worker');
    const outbound = join(tapDir, 'worker-to-client');
    // A tap between client and worker: records both directions byte for byte.
    const tap = [
      "const { spawn } = require('node:child_process');",
      "const { appendFileSync } = require('node:fs');",
      'const [worker, inbound, outbound] = process.argv.slice(1);',
      "const child = spawn(process.execPath, [worker], { stdio: ['pipe', 'pipe', 'inherit'] });",
      "process.stdin.on('data', (d) => { appendFileSync(inbound, d); child.stdin.write(d); });",
      "process.stdin.on('end', () => child.stdin.end());",
      "child.stdin.on('error', () => {});",
      "child.stdout.on('data', (d) => { appendFileSync(outbound, d); process.stdout.write(d); });",
      "child.on('exit', (code) => process.stdout.write('', () => process.exit(code ?? 1)));",
    ].join('\n');
    const client = new WorkerClient({ worker: { command: process.execPath, args: ['-e', tap, WORKER, inbound, outbound] }, clientName: 'workerSchema.test', maxConcurrentJobs: 2 });
    const sourceRef = `oci:${source.dir}:sample`;
    const destinationRef = `oci:${clientDestination.dir}:from-client`;
    try {
      const info = await client.start();
      assert.deepEqual([...info.capabilities.operations].sort(), ['batch', 'convert', 'copy', 'index', 'inspect', 'optimize', 'verify']);
      await client.request(Methods.inspect, { reference: sourceRef });
      const progress: ProgressValue[] = [];
      await client.request(Methods.copy, {
        source: sourceRef,
        destination: destinationRef,
        credentials: [{ registry: '127.0.0.1:1', username: 'schema', password: 'not-a-real-secret' }, { registry: 'ghcr.io', registryToken: 'not-a-real-token' }],
        insecureRegistries: ['127.0.0.1:1'],
      }, { onProgress: (v) => progress.push(v) });
      assert.equal(progress[0]?.kind, 'begin');
      assert.equal(progress.at(-1)?.kind, 'end');
      await client.request(Methods.verify, { reference: destinationRef });
      await client.request(Methods.convert, { source: destinationRef, destination: `oci:${clientDestination.dir}:esgz`, format: 'estargz', prioritized: ['/bin/hello'], allPlatforms: true });
      await client.request(Methods.verify, { reference: `oci:${clientDestination.dir}:esgz`, quick: true });

      // Cancellation through an AbortSignal becomes $/cancelRequest.
      const controller = new AbortController();
      const hangingJob = client.request(Methods.inspect, { reference: `${hanging.host}/slow/app:1` }, { signal: controller.signal, onProgress: (v) => v.kind === 'begin' && controller.abort() });
      await assert.rejects(hangingJob, (e: unknown) => e instanceof LazyImageError && e.code === 'CANCELLED');
    } finally {
      await client.stop();
    }

    const sent = new FrameParser('the client');
    sent.push(await readFile(inbound));
    sent.finish();
    const methods = sent.messages.map((m) => m.method);
    for (const method of [Methods.initialize, Methods.initialized, Methods.inspect, Methods.copy, Methods.convert, Methods.verify, Methods.cancelRequest, Methods.shutdown, Methods.exit]) {
      assert.ok(methods.includes(method), `the client never sent ${method}: ${methods.join(', ')}`);
    }
    const requests = new Map<string | number, string>();
    for (const [i, m] of sent.messages.entries()) {
      const definition = CLIENT_MESSAGE_OF[m.method ?? ''];
      assert.ok(definition, `the client sent message #${i} with an unknown method: ${JSON.stringify(m)}`);
      expectValid(definition, m, `client message #${i}`);
      expectValid('ClientMessage', m, `client message #${i}`);
      if (m.id !== undefined && m.id !== null && m.method) requests.set(m.id, m.method);
    }

    const received = new FrameParser('the worker');
    received.push(await readFile(outbound));
    received.finish();
    validateWorkerMessages(received.messages, requests);
    for (const [id, method] of requests) {
      assert.ok(received.messages.some((m) => m.id === id), `the worker never answered the client's ${method} (id ${id})`);
    }
  });
});
