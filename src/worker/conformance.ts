// The worker conformance suite: protocol scenarios any worker command must pass, whatever its
// language. Each scenario starts a fresh worker process and talks to it over real pipes, with raw
// frames where the scenario is about framing. `lazyimg worker-conformance -- <command...>` runs it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ANNOTATION_REF_NAME, OciLayoutStore, writeImage } from '../core/oci/index.js';
import { ErrorCodes, Methods, PROTOCOL_VERSION, type ProgressParams } from './protocol.js';

export interface ScenarioResult {
  name: string;
  passed: boolean;
  /** Not run: the worker does not offer the operation the scenario is about. */
  skipped?: boolean;
  detail: string;
}

interface Message {
  id?: string | number | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** How long a scenario waits for each answer by default. */
export const DEFAULT_TIMEOUT_MS = 15_000;
/** Big enough that a copy is still running when the cancellation arrives. */
const LARGE_BLOB = 96 * 1024 * 1024;

/** A worker under test, spoken to with raw frames. */
class Peer {
  readonly messages: Message[] = [];
  private buffer = Buffer.alloc(0);
  private readonly waiters: Array<() => void> = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  stderr = '';
  /** Set once the worker has exited and its output is all read: nothing more will come. */
  private ended = false;

  private constructor(private readonly child: ChildProcess, private readonly timeout: number) {
    child.stdout?.on('data', (d: Buffer) => this.onData(d));
    child.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    child.stdin?.on('error', () => undefined);
    child.once('close', () => {
      this.ended = true;
      for (const w of this.waiters.splice(0)) w();
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: 'spawn-error' }));
    });
  }

  static start(command: string[], timeout: number): Peer {
    const [program, ...args] = command;
    return new Peer(spawn(program as string, args, { stdio: ['pipe', 'pipe', 'pipe'] }), timeout);
  }

  private onData(data: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, data]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) break;
      const length = Number(/content-length:\s*(\d+)/i.exec(this.buffer.subarray(0, end).toString('latin1'))?.[1]);
      if (!Number.isFinite(length) || this.buffer.length < end + 4 + length) break;
      const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
      this.buffer = this.buffer.subarray(end + 4 + length);
      try {
        this.messages.push(JSON.parse(body) as Message);
      } catch {
        this.messages.push({ method: '<unparsable frame>', params: body });
      }
      for (const w of this.waiters.splice(0)) w();
    }
  }

  raw(bytes: string | Buffer): void {
    this.child.stdin?.write(bytes);
  }

  send(message: object): void {
    const body = Buffer.from(JSON.stringify({ jsonrpc: '2.0', ...message }));
    this.raw(Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]));
  }

  /** Waits for the first message satisfying `match`, failing after the scenario's timeout. */
  async wait(match: (m: Message) => boolean, what: string, timeout = this.timeout): Promise<Message> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.messages.find(match);
      if (found) return found;
      // A worker that crashed is not waited for as if it were slow.
      if (this.ended) throw new Error(`no ${what}: the worker exited first`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${timeout / 1000} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  response(id: number | string, what: string): Promise<Message> {
    return this.wait((m) => m.id === id && (m.result !== undefined || m.error !== undefined), what);
  }

  async initialize(): Promise<Message> {
    this.send({ id: 'init', method: Methods.initialize, params: { protocolVersion: PROTOCOL_VERSION, clientInfo: { name: 'lazyimg-conformance' } } });
    const reply = await this.response('init', 'initialize response');
    this.send({ method: Methods.initialized, params: {} });
    return reply;
  }

  closeInput(): void {
    this.child.stdin?.end();
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }
}

interface Fixture {
  dir: string;
  source: string;
  bigSource: string;
  totalBytes: number;
  /** The small image's layers alone: what a conversion reads. */
  layerBytes: number;
  layerCount: number;
}

async function makeFixture(): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), 'lazyimg-conformance-'));
  const store = await OciLayoutStore.open(join(dir, 'source'), { create: true });
  const files = (name: string, size: number) => [{
    entries: [{ name, type: 'file' as const, content: { size, stream: () => Readable.from(noise(size)) } }],
  }];
  const small = await writeImage(store, [...files('a.bin', 300_000), ...files('b.bin', 200_000)], { tag: 'small' });
  await writeImage(store, files('big.bin', LARGE_BLOB), { tag: 'big', gzipLevel: 1 });
  const layerBytes = small.layers.reduce((s, l) => s + l.size, 0);
  return {
    dir, source: `oci:${join(dir, 'source')}:small`, bigSource: `oci:${join(dir, 'source')}:big`,
    totalBytes: small.config.size + layerBytes, layerBytes, layerCount: small.layers.length,
  };
}

/** Incompressible bytes, so layer sizes stay near their content sizes. */
function* noise(size: number): Generator<Buffer> {
  let seed = 0x9e3779b9;
  for (let left = size; left > 0; left -= 65536) {
    const chunk = Buffer.alloc(Math.min(65536, left));
    for (let i = 0; i < chunk.length; i += 4) {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      chunk.writeUInt32LE(seed >>> 0, i);
    }
    yield chunk;
  }
}

/** What a scenario found, or why it did not run. */
type Scenario = (peer: Peer, fixture: Fixture) => Promise<string | { skipped: string }>;

function expect(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function expectError(reply: Message, code: number, what: string): void {
  expect(reply.error, `${what}: expected error ${code}, got a result`);
  expect(reply.error.code === code, `${what}: expected error ${code}, got ${reply.error.code} (${reply.error.message})`);
}

type Report = Extract<ProgressParams['value'], { kind: 'report' }>;

/**
 * The progress a request sent before its answer: begin, only reports, end; done never above total
 * and never decreasing; at most 10 reports a second. Returns the reports.
 */
function checkedReports(peer: Peer, token: string, reply: Message, seconds: number, events = false): Report[] {
  const values = progressValues(peer, token, reply);
  expect(values[0]?.kind === 'begin', 'the first progress must be begin');
  expect(values.at(-1)?.kind === 'end', 'the last progress before the result must be end');
  expect(values.slice(1, -1).every((v) => v.kind === 'report' || (events && v.kind === 'event')), `only reports${events ? ' and events' : ''} between begin and end`);
  const reports = values.filter((v): v is Report => v.kind === 'report');
  expect(reports.length > 0, 'at least one report');
  reports.forEach((r, i) => {
    expect(r.done <= r.total, `report ${i}: done ${r.done} > total ${r.total}`);
    if (i > 0) expect(r.done >= (reports[i - 1]?.done ?? 0), `report ${i}: done went backwards`);
  });
  expect(reports.length <= 10 * Math.max(1, seconds) + 2, `${reports.length} reports in ${seconds.toFixed(1)} s: more than 10 a second`);
  return reports;
}

/** The progress values a request got before its answer. */
function progressValues(peer: Peer, token: string, reply: Message): ProgressParams['value'][] {
  const replyAt = peer.messages.indexOf(reply);
  return peer.messages.slice(0, replyAt).filter((m) => m.method === Methods.progress && (m.params as ProgressParams).token === token).map((m) => (m.params as ProgressParams).value);
}

/** Initializes; the operations the worker offers. */
async function offered(peer: Peer): Promise<string[]> {
  const reply = await peer.initialize();
  const ops = (reply.result as { capabilities?: { operations?: unknown } } | undefined)?.capabilities?.operations;
  return Array.isArray(ops) ? ops.filter((o): o is string => typeof o === 'string') : [];
}

/** Whether a cancelled job left a manifest or a temporary file in the destination layout. */
async function expectNothingWritten(destination: string): Promise<void> {
  const index = JSON.parse(await readFile(join(destination, 'index.json'), 'utf8').catch(() => '{"manifests":[]}')) as { manifests: unknown[] };
  expect(index.manifests.length === 0, 'the destination lists a manifest after cancellation');
  const leftovers = (await readdir(destination).catch(() => [])).filter((n) => !['index.json', 'oci-layout', 'blobs'].includes(n));
  expect(leftovers.length === 0, `temporary files left: ${leftovers.join(', ')}`);
}

/**
 * Starts a job on the big image, cancels it after its first progress report: it must answer
 * -32800 and leave no manifest and no temporary file in `folder`.
 */
async function cancelAfterFirstReport(peer: Peer, operation: 'copy' | 'convert' | 'index', folder: string, params: (destination: string) => Record<string, unknown>): Promise<string> {
  const token = `${operation}-cancelled`;
  peer.send({ id: 1, method: Methods[operation], params: { ...params(`oci:${folder}:never`), workDoneToken: token } });
  await peer.wait((m) => m.method === Methods.progress && (m.params as ProgressParams).token === token && (m.params as ProgressParams).value.kind === 'report', 'first progress report');
  peer.send({ method: Methods.cancelRequest, params: { id: 1 } });
  const cancelled = Date.now();
  const reply = await peer.response(1, `answer to the cancelled ${operation}`);
  const seconds = (Date.now() - cancelled) / 1000;
  expectError(reply, ErrorCodes.RequestCancelled, `cancelled ${operation}`);
  await expectNothingWritten(folder);
  return `-32800 ${seconds.toFixed(2)} s after the cancellation, no manifest, no temporary file${await expectWrittenListed(reply, folder)}`;
}

/** No tag of a layout names content that is not all there: each tagged manifest, its config and its layers (an index: its manifests). */
async function expectTagsComplete(dir: string): Promise<number> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8').catch(() => '{"manifests":[]}')) as { manifests: Array<{ digest: string }> };
  const blob = (digest: string): Promise<string> => readFile(join(dir, 'blobs', ...digest.split(':')), 'utf8');
  const check = async (digest: string): Promise<void> => {
    const text = await blob(digest).catch(() => undefined);
    expect(text !== undefined, `a tag of ${dir} names ${digest}, which is not stored`);
    const doc = JSON.parse(text) as { config?: { digest: string }; layers?: Array<{ digest: string }>; manifests?: Array<{ digest: string }> };
    for (const d of [doc.config, ...(doc.layers ?? [])]) {
      if (d) expect(await blob(d.digest).then(() => true, () => false), `${digest} in ${dir} names the blob ${d.digest}, which is not stored`);
    }
    for (const m of doc.manifests ?? []) await check(m.digest);
  };
  for (const m of index.manifests) await check(m.digest);
  return index.manifests.length;
}

/** Since 1.7: the blobs a failed job says it left (`data.written`) are those in its new destination. */
async function expectWrittenListed(reply: Message, destination: string): Promise<string> {
  const written = (reply.error?.data as { written?: unknown } | undefined)?.written;
  if (written === undefined) return '';
  expect(Array.isArray(written) && written.every((w: { digest?: unknown } | null) => typeof w?.digest === 'string'), `data.written is not a list of digests: ${JSON.stringify(written)}`);
  const listed = (written as Array<{ digest: string }>).map((w) => w.digest.replace(/^sha256:/, '')).sort();
  const stored = (await readdir(join(destination, 'blobs', 'sha256')).catch(() => [])).sort();
  expect(JSON.stringify(listed) === JSON.stringify(stored), `data.written lists ${listed.length ? listed.join(', ') : 'nothing'}, the destination holds ${stored.length ? stored.join(', ') : 'nothing'}`);
  return `, data.written lists its ${stored.length} blob(s)`;
}

async function stillAnswers(peer: Peer, id: string): Promise<void> {
  peer.send({ id, method: 'lazyimg/conformance-ping' });
  const reply = await peer.response(id, 'answer after the bad input');
  expect(reply.error?.code === ErrorCodes.MethodNotFound, `after the bad input, an unknown method got ${JSON.stringify(reply.error ?? reply.result)}`);
}

const scenarios: Array<[string, Scenario]> = [
  ['handshake', async (peer) => {
    const reply = await peer.initialize();
    const result = reply.result as { protocolVersion?: unknown; capabilities?: { operations?: unknown; formats?: unknown } } | undefined;
    expect(result, `initialize failed: ${JSON.stringify(reply.error)}`);
    expect(typeof result.protocolVersion === 'string' && result.protocolVersion.split('.')[0] === PROTOCOL_VERSION.split('.')[0], `protocol version ${String(result.protocolVersion)}`);
    const ops = result.capabilities?.operations;
    expect(Array.isArray(ops) && ops.every((o) => typeof o === 'string'), 'capabilities.operations must be an array of strings');
    expect(Array.isArray(result.capabilities?.formats), 'capabilities.formats must be an array');
    return `version ${result.protocolVersion}, operations ${ops.join(', ')}`;
  }],
  ['request before initialize', async (peer) => {
    peer.send({ id: 1, method: Methods.inspect, params: { reference: 'oci:/nonexistent' } });
    expectError(await peer.response(1, 'answer'), ErrorCodes.ServerNotInitialized, 'inspect before initialize');
    return '-32002';
  }],
  ['unknown method', async (peer) => {
    await peer.initialize();
    peer.send({ id: 1, method: 'lazyimg/no-such-operation', params: {} });
    expectError(await peer.response(1, 'answer'), ErrorCodes.MethodNotFound, 'unknown method');
    peer.send({ method: '$/no-such-notification', params: {} });
    await stillAnswers(peer, 'after');
    return '-32601, and $/ notifications are ignored';
  }],
  ['malformed frame', async (peer) => {
    await peer.initialize();
    peer.raw('Content-Length: 12\r\n\r\n{"jsonrpc":');
    peer.raw('Content-Length: 4\r\n\r\n}}}}');
    const reply = await peer.wait((m) => m.error?.code === ErrorCodes.ParseError, 'parse error (-32700)');
    expect(reply.id === null, `a parse error must have id null, got ${JSON.stringify(reply.id)}`);
    await stillAnswers(peer, 'after');
    return '-32700 with id null, still serving';
  }],
  ['invalid request', async (peer) => {
    await peer.initialize();
    peer.send({ id: 5, method: 42 });
    expectError(await peer.response(5, 'answer to a numeric method'), ErrorCodes.InvalidRequest, 'method 42');
    await stillAnswers(peer, 'after');
    return '-32600';
  }],
  ['wrong parameter types', async (peer) => {
    await peer.initialize();
    peer.send({ id: 1, method: Methods.inspect, params: { reference: 42 } });
    expectError(await peer.response(1, 'answer'), ErrorCodes.InvalidParams, 'reference: 42');
    peer.send({ id: 2, method: Methods.copy, params: { source: 'oci:/x', destination: ['no'] } });
    expectError(await peer.response(2, 'answer'), ErrorCodes.InvalidParams, 'destination: array');
    return '-32602';
  }],
  ['bad input', async (peer, fixture) => {
    await peer.initialize();
    peer.send({ id: 1, method: Methods.inspect, params: { reference: `oci:${join(fixture.dir, 'missing')}` } });
    const reply = await peer.response(1, 'answer');
    expectError(reply, ErrorCodes.InvalidInput, 'missing layout');
    const data = reply.error?.data as { code?: unknown; temporary?: unknown } | undefined;
    expect(typeof data?.code === 'string' && typeof data.temporary === 'boolean', `error data must carry code and temporary, got ${JSON.stringify(data)}`);
    return `-33003, data.code ${String(data.code)}`;
  }],
  ['progress order', async (peer, fixture) => {
    await peer.initialize();
    const destination = join(fixture.dir, 'progress');
    const started = Date.now();
    peer.send({ id: 1, method: Methods.copy, params: { source: fixture.source, destination: `oci:${destination}:copied`, workDoneToken: 'p1' } });
    const reply = await peer.response(1, 'copy result');
    expect(reply.result, `copy failed: ${JSON.stringify(reply.error)}`);
    const reports = checkedReports(peer, 'p1', reply, (Date.now() - started) / 1000);
    const last = reports.at(-1);
    expect(last && last.done === last.total && last.total === fixture.totalBytes, `final report ${last?.done}/${last?.total}, expected ${fixture.totalBytes} bytes`);
    return `${reports.length} reports, ${last.total} bytes`;
  }],
  ['cancellation', async (peer, fixture) => {
    await peer.initialize();
    return cancelAfterFirstReport(peer, 'copy', join(fixture.dir, 'cancelled'), (destination) => ({ source: fixture.bigSource, destination }));
  }],
  ['convert to eStargz', async (peer, fixture) => {
    const ops = await offered(peer);
    if (!ops.includes('convert')) return { skipped: 'the worker does not offer convert' };
    const destination = join(fixture.dir, 'converted');
    const started = Date.now();
    peer.send({ id: 1, method: Methods.convert, params: { source: fixture.source, destination: `oci:${destination}:esgz`, format: 'estargz', workDoneToken: 'v1' } });
    const reply = await peer.response(1, 'convert result');
    const result = reply.result as { descriptor?: { digest?: unknown }; layers?: Array<{ tocDigest?: unknown }>; missing?: unknown } | undefined;
    expect(result, `convert failed: ${JSON.stringify(reply.error)}`);
    const reports = checkedReports(peer, 'v1', reply, (Date.now() - started) / 1000);
    const last = reports.at(-1);
    expect(last && last.items.length === fixture.layerCount, `the last report lists ${last?.items.length} items, expected one per layer (${fixture.layerCount})`);
    expect(last.done === last.total && last.total === fixture.layerBytes, `final report ${last.done}/${last.total}, expected the ${fixture.layerBytes} bytes of the source layers`);
    expect(result.layers?.length === fixture.layerCount && result.layers.every((l) => typeof l.tocDigest === 'string' && /^sha256:[0-9a-f]{64}$/.test(l.tocDigest)), `result layers ${JSON.stringify(result.layers)}`);
    expect(Array.isArray(result.missing) && result.missing.length === 0, `missing ${JSON.stringify(result.missing)}`);
    const index = JSON.parse(await readFile(join(destination, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    const tagged = index.manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === 'esgz');
    expect(tagged?.digest === result.descriptor?.digest, `index.json tags esgz as ${tagged?.digest}, the result says ${String(result.descriptor?.digest)}`);
    if (!ops.includes('verify')) return `${fixture.layerCount} layers converted; verify not offered`;
    peer.send({ id: 2, method: Methods.verify, params: { reference: `oci:${destination}:esgz`, quick: true } });
    const verified = await peer.response(2, 'verify result');
    const report = verified.result as { ok?: unknown; layers?: Array<{ lazy?: { lazy?: unknown } }> } | undefined;
    expect(report?.ok === true, `quick verify of the converted image: ${JSON.stringify(verified.error ?? verified.result)}`);
    expect(report.layers?.length === fixture.layerCount && report.layers.every((l) => l.lazy?.lazy === true), `not every layer is lazy: ${JSON.stringify(report.layers)}`);
    return `${fixture.layerCount} layers converted with a TOC each, ${reports.length} reports; verify --quick: all lazy`;
  }],
  ['convert cancellation', async (peer, fixture) => {
    if (!(await offered(peer)).includes('convert')) return { skipped: 'the worker does not offer convert' };
    return cancelAfterFirstReport(peer, 'convert', join(fixture.dir, 'convert-cancelled'), (destination) => ({ source: fixture.bigSource, destination, format: 'estargz' }));
  }],
  ['build a SOCI index', async (peer, fixture) => {
    const ops = await offered(peer);
    if (!ops.includes('index')) return { skipped: 'the worker does not offer index' };
    const destination = join(fixture.dir, 'soci');
    const started = Date.now();
    peer.send({ id: 1, method: Methods.index, params: { source: fixture.source, destination: `oci:${destination}:soci`, spanSize: 65536, minLayerSize: 0, workDoneToken: 's1' } });
    const reply = await peer.response(1, 'index result');
    const result = reply.result as { version?: unknown; image?: { digest?: unknown }; indexes?: Array<{ index?: { digest?: unknown }; layers?: Array<{ ztoc?: { spans?: unknown } }> }> } | undefined;
    expect(result, `index failed: ${JSON.stringify(reply.error)}`);
    const reports = checkedReports(peer, 's1', reply, (Date.now() - started) / 1000);
    const last = reports.at(-1);
    expect(last && last.done === last.total && last.total === fixture.layerBytes, `final report ${last?.done}/${last?.total}, expected the ${fixture.layerBytes} bytes of the source layers`);
    expect(result.version === 'v2', `version ${String(result.version)}, expected the default v2`);
    const layers = result.indexes?.[0]?.layers ?? [];
    expect(result.indexes?.length === 1 && layers.length === fixture.layerCount && layers.every((l) => typeof l.ztoc?.spans === 'number' && l.ztoc.spans > 1), `one index with a multi-span zTOC per layer: ${JSON.stringify(result.indexes)}`);
    const index = JSON.parse(await readFile(join(destination, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    const tagged = index.manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === 'soci');
    expect(tagged?.digest === result.image?.digest, `index.json tags soci as ${tagged?.digest}, the result says ${String(result.image?.digest)}`);
    if (!ops.includes('verify')) return `${fixture.layerCount} zTOCs built; verify not offered`;
    peer.send({ id: 2, method: Methods.verify, params: { reference: `oci:${destination}:soci` } });
    const verified = await peer.response(2, 'verify result');
    const report = verified.result as { ok?: unknown; soci?: Array<{ index?: unknown; ztocs?: unknown }>; layers?: Array<{ soci?: { lazy?: unknown } }> } | undefined;
    expect(report?.ok === true, `verify of the SOCI-enabled image: ${JSON.stringify(verified.error ?? verified.result)}`);
    expect(report.soci?.length === 1 && report.soci[0]?.index === result.indexes?.[0]?.index?.digest && report.soci[0]?.ztocs === fixture.layerCount, `verify found ${JSON.stringify(report.soci)}`);
    expect(report.layers?.every((l) => l.soci?.lazy === true), `not every layer is lazy through SOCI: ${JSON.stringify(report.layers)}`);
    return `${fixture.layerCount} zTOCs in a v2 index, ${reports.length} reports; verify: every span checks, every layer lazy`;
  }],
  ['SOCI index cancellation', async (peer, fixture) => {
    if (!(await offered(peer)).includes('index')) return { skipped: 'the worker does not offer index' };
    return cancelAfterFirstReport(peer, 'index', join(fixture.dir, 'soci-cancelled'), (destination) => ({ source: fixture.bigSource, destination }));
  }],
  ['batch', async (peer, fixture) => {
    const ops = await offered(peer);
    if (!ops.includes('batch')) return { skipped: 'the worker does not offer batch' };
    const destination = join(fixture.dir, 'batch');
    const item = (tag: string) => ({ source: fixture.source, destination: `oci:${destination}:${tag}` });
    const started = Date.now();
    peer.send({ id: 1, method: Methods.batch, params: {
      plan: { version: 1, defaults: { operation: 'soci-v2', soci: { spanSize: 65536, minLayerSize: 0 } }, items: [item('one'), item('two')] },
      cache: `oci:${join(fixture.dir, 'batch-cache')}`, workDoneToken: 'b1',
    } });
    const reply = await peer.response(1, 'batch result');
    type Event = { type: string; outcome?: string; digest?: string; destination?: string; layers?: { built: number; reused: number } };
    const result = reply.result as { events?: Event[]; summary?: { items?: number; done?: number; distinctLayers?: number; layersBuilt?: number; layersReused?: number } } | undefined;
    expect(result?.events && result.summary, `batch failed: ${JSON.stringify(reply.error ?? reply.result)}`);
    checkedReports(peer, 'b1', reply, (Date.now() - started) / 1000, true);
    const carried = progressValues(peer, 'b1', reply).flatMap((v) => (v.kind === 'event' ? [v.event] : []));
    expect(JSON.stringify(carried) === JSON.stringify(result.events), 'progress must carry every event of the result, in the same order');
    const items = result.events.filter((e) => e.type === 'item');
    expect(items.length === 2 && items.every((e) => e.outcome === 'done'), `two items done: ${JSON.stringify(items)}`);
    const built = items.reduce((n, e) => n + (e.layers?.built ?? 0), 0);
    const reused = items.reduce((n, e) => n + (e.layers?.reused ?? 0), 0);
    const { summary } = result;
    expect(built === fixture.layerCount && reused === fixture.layerCount, `two items sharing ${fixture.layerCount} layers: each built once and reused once, got ${built} built and ${reused} reused`);
    expect(summary.items === 2 && summary.done === 2 && summary.distinctLayers === fixture.layerCount && summary.layersBuilt === built && summary.layersReused === reused, `summary ${JSON.stringify(summary)}`);
    const index = JSON.parse(await readFile(join(destination, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; annotations?: Record<string, string> }> };
    for (const e of items) {
      const tag = e.destination?.split(':').at(-1);
      const tagged = index.manifests.find((m) => m.annotations?.[ANNOTATION_REF_NAME] === tag);
      expect(tagged && tagged.digest === e.digest, `index.json tags ${String(tag)} as ${tagged?.digest}, the event says ${String(e.digest)}`);
    }
    await expectTagsComplete(destination);
    return `2 items, ${fixture.layerCount} layers indexed once and reused once, ${carried.length} events in progress`;
  }],
  ['batch cancellation', async (peer, fixture) => {
    if (!(await offered(peer)).includes('batch')) return { skipped: 'the worker does not offer batch' };
    const folder = join(fixture.dir, 'batch-cancelled');
    const cache = join(fixture.dir, 'batch-cancelled-cache');
    peer.send({ id: 1, method: Methods.batch, params: {
      plan: { version: 1, items: [{ source: fixture.bigSource, destination: `oci:${folder}:never`, operation: 'estargz' }] },
      cache: `oci:${cache}`, workDoneToken: 'bc',
    } });
    await peer.wait((m) => m.method === Methods.progress && (m.params as ProgressParams).token === 'bc' && (m.params as ProgressParams).value.kind === 'report', 'first progress report');
    peer.send({ method: Methods.cancelRequest, params: { id: 1 } });
    const cancelled = Date.now();
    const reply = await peer.response(1, 'answer to the cancelled batch');
    const seconds = (Date.now() - cancelled) / 1000;
    expectError(reply, ErrorCodes.RequestCancelled, 'cancelled batch');
    await expectNothingWritten(folder);
    const records = await expectTagsComplete(cache);
    return `-32800 ${seconds.toFixed(2)} s after the cancellation, no manifest, no temporary file; ${records} cache record(s), each complete`;
  }],
  ['shutdown and exit', async (peer) => {
    await peer.initialize();
    peer.send({ id: 1, method: Methods.shutdown });
    const reply = await peer.response(1, 'shutdown result');
    expect(reply.result === null && !reply.error, `shutdown answered ${JSON.stringify(reply.error ?? reply.result)}`);
    peer.send({ id: 2, method: Methods.inspect, params: { reference: 'oci:/x' } });
    expectError(await peer.response(2, 'answer after shutdown'), ErrorCodes.InvalidRequest, 'request after shutdown');
    peer.send({ method: Methods.exit });
    const exit = await Promise.race([peer.exited, delay(5000)]);
    expect(exit, 'the worker did not exit within 5 s of exit');
    expect(exit.code === 0, `exit code ${exit.code} (signal ${exit.signal})`);
    return 'result null, requests refused, exit code 0';
  }],
  ['exits when stdin closes', async (peer) => {
    await peer.initialize();
    peer.closeInput();
    const exit = await Promise.race([peer.exited, delay(5000)]);
    expect(exit, 'the worker did not exit within 5 s of its input closing');
    return `exit code ${exit.code}`;
  }],
];

/** The start of what a worker that exited wrote to stderr, where a crash says why, on one line. */
function stderrHead(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const head = lines.join(' / ');
  return lines.length ? `; stderr: ${head.length > 400 ? `${head.slice(0, 400)}…` : head}` : '';
}

function delay(ms: number): Promise<undefined> {
  return new Promise((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

export interface ConformanceOptions {
  /** How long to wait for each answer. */
  timeoutMs?: number;
  onResult?: (r: ScenarioResult) => void;
}

/** Runs every scenario against `command`, each on a fresh worker process. */
export async function runConformance(command: string[], options: ConformanceOptions = {}): Promise<ScenarioResult[]> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const fixture = await makeFixture();
  const results: ScenarioResult[] = [];
  try {
    for (const [name, scenario] of scenarios) {
      const peer = Peer.start(command, timeout);
      let result: ScenarioResult;
      try {
        const outcome = await Promise.race([scenario(peer, fixture), delay(timeout * 2).then(() => { throw new Error('scenario timed out'); })]);
        result = typeof outcome === 'string' ? { name, passed: true, detail: outcome } : { name, passed: true, skipped: true, detail: outcome.skipped };
      } catch (e) {
        const exit = await Promise.race([peer.exited, delay(0)]);
        result = { name, passed: false, detail: `${(e as Error).message}${exit ? ` (worker exited: code ${exit.code}, signal ${exit.signal}${stderrHead(peer.stderr)})` : ''}` };
      } finally {
        peer.kill();
        await peer.exited;
      }
      results.push(result);
      options.onResult?.(result);
    }
  } finally {
    await rm(fixture.dir, { recursive: true, force: true });
  }
  return results;
}

/** The results as a Markdown table. */
export function formatTable(results: ScenarioResult[]): string {
  const rows = results.map((r) => `| ${r.name} | ${r.skipped ? 'skip' : r.passed ? 'pass' : 'FAIL'} | ${r.detail.replace(/\|/g, '\\|')} |`);
  return ['| scenario | result | detail |', '|---|---|---|', ...rows].join('\n');
}

