// The CLI against bad input: hosts it cannot reach, TLS it cannot trust, credentials that do not
// work, names that do not exist, registries that lie or send garbage, links to other hosts, bad
// references, bad command lines, indexes that lie about their layers. Every failure must exit 1
// (2 for a wrong command line), in time, with exactly one line on stderr, `lazyimg: ...`, that
// names what failed and why, and no stack trace. A failed copy must leave its destination layout as it was.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Descriptor, OciLayoutStore } from '../../src/core/oci/index.js';
import { decodeZtoc, encodeZtoc } from '../../src/core/soci/index.js';
import { sampleLayout, tempLayout } from '../helpers/images.js';
import { tempDir } from '../helpers/tempDirs.js';
import { sociImage, withZtocBytes } from '../helpers/sociImage.js';
import { makeTar } from '../unit/estargz/helpers.js';
import { CLI, dockerConfigFor, runCli, type CliResult } from './fixtures/cli.js';
import { selfSignedCertificate, startFakeServer, type FakeServer } from './fixtures/fakeServer.js';
import { startLinkProxy } from './fixtures/linkProxy.js';
import { freePort, startRegistry, type RegistryAuth, type RegistryFixture } from './fixtures/registry.js';

/** No test may take longer; a hanging CLI fails its test instead of the whole run. */
const TEST_TIMEOUT_MS = 60_000;
/** What one failing command may take: enough for a few retries, far from any network timeout. */
const COMMAND_MS = 15_000;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

let emptyConfig: string;
let sample: OciLayoutStore;
let sampleManifest: { descriptor: Descriptor; bytes: Buffer; layers: Descriptor[]; config: Descriptor };

before(async () => {
  emptyConfig = await tempDir('lazyimg-no-login-');
  sample = await sampleLayout();
  const doc = await sample.getManifest(await sample.resolve('sample'));
  assert.equal(doc.kind, 'manifest');
  if (doc.kind !== 'manifest') return;
  sampleManifest = { descriptor: doc.descriptor, bytes: doc.bytes, layers: doc.manifest.layers, config: doc.manifest.config };
});

interface Failure {
  /** 1 for a failed operation, 2 for a wrong command line. */
  code?: 1 | 2;
  /** What the one line must contain: the reference or host, and the cause. */
  mentions: Array<string | RegExp>;
  /** What it must not contain (a password, the wrong cause). */
  never?: Array<string | RegExp>;
  withinMs?: number;
}

/** Runs the CLI (never logged in unless `env` says so) and checks the failure's shape. */
async function expectFailure(args: string[], expected: Failure, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const limit = expected.withinMs ?? COMMAND_MS;
  const started = Date.now();
  const result = await runCli(args, { DOCKER_CONFIG: emptyConfig, ...env });
  const elapsed = Date.now() - started;
  const shown = `lazyimg ${args.join(' ')} -> exit ${result.code}, stderr ${JSON.stringify(result.stderr)}`;
  assert.equal(result.code, expected.code ?? 1, shown);
  assert.match(result.stderr, /^lazyimg: [^\n]+\n$/, `stderr must be exactly one line starting with "lazyimg: ": ${shown}`);
  assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+|[A-Z]\w*Error\b/, `stack trace or error class name: ${shown}`);
  assert.doesNotMatch(result.stderr.slice(0, -1), /\p{Cc}/u, `control characters: ${shown}`);
  const actions = result.stderr.match(/Cannot [^:]+/g) ?? [];
  assert.equal(new Set(actions).size, actions.length, `says the same thing twice: ${shown}`);
  for (const m of expected.mentions) {
    if (typeof m === 'string') assert.ok(result.stderr.includes(m), `should mention ${JSON.stringify(m)}: ${shown}`);
    else assert.match(result.stderr, m, shown);
  }
  for (const m of expected.never ?? []) {
    if (typeof m === 'string') assert.ok(!result.stderr.includes(m), `must not mention ${JSON.stringify(m)}: ${shown}`);
    else assert.doesNotMatch(result.stderr, m, shown);
  }
  assert.ok(elapsed < limit, `took ${elapsed} ms (limit ${limit} ms): ${shown}`);
  return result;
}

/** Where distribution's filesystem driver keeps a blob's bytes. */
function storedBlob(registry: RegistryFixture, digest: string): string {
  const hex = digest.slice('sha256:'.length);
  return join(registry.storage, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
}

async function pushSample(registry: RegistryFixture, target: string): Promise<void> {
  const pushed = await runCli(['copy', `oci:${sample.dir}:sample`, `${registry.host}/${target}`], { DOCKER_CONFIG: emptyConfig });
  assert.equal(pushed.code, 0, pushed.stderr);
}

/** Every file of a layout, relative path to content. */
async function snapshot(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files.set(path.slice(dir.length + 1), await readFile(path));
  }
  return files;
}

/** No temporary files anywhere, and every blob hashes to its own name. */
async function assertLayoutConsistent(dir: string): Promise<Map<string, Buffer>> {
  const files = await snapshot(dir);
  for (const [path, bytes] of files) {
    assert.ok(!basename(path).startsWith('.lazyimg-tmp-'), `temporary file left behind: ${path}`);
    if (path.startsWith(join('blobs', 'sha256'))) {
      assert.equal(createHash('sha256').update(bytes).digest('hex'), basename(path), `blob ${path} does not match its name`);
    }
  }
  return files;
}

describe('unreachable registries', () => {
  it('a closed port on 127.0.0.1', { timeout: TEST_TIMEOUT_MS }, async () => {
    const host = `127.0.0.1:${await freePort()}`;
    await expectFailure(['inspect', `${host}/x:1`], { mentions: [host, /connection refused/] });
  });

  it('a host name that does not resolve', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['inspect', 'no-such-host.invalid:5000/x:1'], { mentions: ['no-such-host.invalid', /cannot resolve/] });
  });
});

describe('TLS', () => {
  let certPath: string;
  let server: FakeServer;

  before(async () => {
    const cert = await selfSignedCertificate(await tempDir('lazyimg-tls-'));
    certPath = cert.certPath;
    // A registry with no images: the API root answers, every manifest is unknown.
    server = await startFakeServer((req, res) => {
      if (req.url === '/v2/') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    }, cert);
  });
  after(() => server.close());

  it('a self-signed certificate is reported, not downgraded to plain HTTP', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['inspect', `${server.host}/x:1`], {
      mentions: [`https://${server.host}`, /TLS/, /self-signed certificate/],
      never: [`http://${server.host}`, /HTTPS failed too/],
    });
    assert.deepEqual(server.requests, [], 'no request may get through an untrusted connection');
  });

  it('--ca-file with that certificate makes the TLS error go away', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['--ca-file', certPath, 'inspect', `${server.host}/x:1`], {
      mentions: [`${server.host}/x:1`, /manifest unknown/],
      never: [/TLS|certificate/i],
    });
    assert.ok(server.requests.includes('GET /v2/'), server.requests.join(', '));
  });

  it('--insecure vouches for its host only: a redirect to another host has its TLS checked', { timeout: TEST_TIMEOUT_MS }, async () => {
    // Another self-signed server; the registry sends its manifest requests there.
    const other = await startFakeServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    }, await selfSignedCertificate(await tempDir('lazyimg-tls-')));
    const redirecting = await startFakeServer((req, res) => {
      if (req.url === '/v2/') res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      else res.writeHead(307, { location: `https://${other.host}${req.url ?? '/'}` }).end();
    }, await selfSignedCertificate(await tempDir('lazyimg-tls-')));
    try {
      await expectFailure(['--insecure', redirecting.host, 'inspect', `${redirecting.host}/x:1`], {
        mentions: [other.host, /TLS/, /self-signed certificate/],
      });
      assert.deepEqual(other.requests, [], 'no request may reach the other host over unchecked TLS');
      await expectFailure(['--insecure', redirecting.host, '--insecure', other.host, 'inspect', `${redirecting.host}/x:1`], {
        mentions: [/manifest unknown/],
        never: [/TLS|certificate/i],
      });
      assert.ok(other.requests.length > 0, 'listed as insecure too, the other host is reached');
    } finally {
      await other.close();
      await redirecting.close();
    }
  });
});

for (const auth of ['basic', 'token'] as RegistryAuth[]) {
  describe(`a registry with ${auth} auth`, () => {
    let registry: RegistryFixture;
    let wrongPassword: string;

    before(async () => {
      registry = await startRegistry({ auth });
      wrongPassword = await dockerConfigFor(registry.host, registry.username, 'not-the-password-42');
    });
    after(() => registry.stop());

    it('without credentials asks to log in', { timeout: TEST_TIMEOUT_MS }, async () => {
      await expectFailure(['inspect', `${registry.host}/private/app:v1`], { mentions: [registry.host, /log in/] });
      await expectFailure(['ls', `${registry.host}/private/app`], { mentions: [registry.host, /log in/] });
    });

    it('with a wrong password says the credentials were rejected', { timeout: TEST_TIMEOUT_MS }, async () => {
      for (const args of [['inspect', `${registry.host}/private/app:v1`], ['ls', `${registry.host}/private/app`]]) {
        await expectFailure(args, {
          mentions: [registry.host, /credentials were rejected/],
          never: ['not-the-password-42', registry.password, /HTTP 401\)$/],
        }, { DOCKER_CONFIG: wrongPassword });
      }
    });
  });
}

describe('names a registry does not have', () => {
  let registry: RegistryFixture;

  before(async () => {
    registry = await startRegistry();
    await pushSample(registry, 'known/app:v1');
  });
  after(() => registry.stop());

  it('an unknown repository', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['inspect', `${registry.host}/unknown/app:v1`], { mentions: [`${registry.host}/unknown/app:v1`, /manifest unknown/] });
  });

  it('an unknown tag', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['inspect', `${registry.host}/known/app:v2`], { mentions: [`${registry.host}/known/app:v2`, /manifest unknown/] });
  });
});

describe('a registry whose stored manifest was corrupted', () => {
  // Storage is content-addressed and shared by all repositories: one registry per corruption.
  let registry: RegistryFixture;

  before(async () => {
    registry = await startRegistry();
  });
  after(() => registry.stop());

  it('with other, valid JSON: a digest mismatch naming the image', { timeout: TEST_TIMEOUT_MS }, async () => {
    await pushSample(registry, 'bad/manifest:v1');
    const tampered = { ...(JSON.parse(sampleManifest.bytes.toString()) as object), annotations: { tampered: 'yes' } };
    await writeFile(storedBlob(registry, sampleManifest.descriptor.digest), JSON.stringify(tampered));
    for (const args of [['inspect', `${registry.host}/bad/manifest:v1`], ['inspect', '--raw', `${registry.host}/bad/manifest:v1`]]) {
      await expectFailure(args, { mentions: [`${registry.host}/bad/manifest`, sampleManifest.descriptor.digest, /content has digest sha256:/] });
    }
  });

  it('with invalid JSON: the registry fails, and we say so naming the image', { timeout: TEST_TIMEOUT_MS }, async () => {
    await pushSample(registry, 'bad/manifest:v1');
    await writeFile(storedBlob(registry, sampleManifest.descriptor.digest), '{ this is not JSON');
    // distribution parses manifests before serving them, so it answers 500 rather than send the bytes.
    await expectFailure(['inspect', `${registry.host}/bad/manifest:v1`], { mentions: [`${registry.host}/bad/manifest:v1`, /HTTP 500|not JSON|digest/] });
  });
});

describe('a registry whose stored layer was corrupted', () => {
  let registry: RegistryFixture;
  let layer: Descriptor;

  before(async () => {
    registry = await startRegistry();
    await pushSample(registry, 'bad/blob:v1');
    layer = sampleManifest.layers[1] as Descriptor;
    const path = storedBlob(registry, layer.digest);
    const original = await readFile(path);
    await writeFile(path, Buffer.alloc(original.length, 'A'));
  });
  after(() => registry.stop());

  it('copy fails with a digest mismatch and leaves a new layout clean', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = join(await tempDir('lazyimg-dst-'), 'layout');
    await expectFailure(['copy', `${registry.host}/bad/blob:v1`, `oci:${dir}:v1`], {
      mentions: [`${registry.host}/bad/blob@${layer.digest}`, /content has digest/],
    });
    await assertLayoutConsistent(dir);
    assert.deepEqual((JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as { manifests: unknown[] }).manifests, []);
  });

  it('copy into a layout that holds another image leaves it as it was', { timeout: TEST_TIMEOUT_MS }, async () => {
    const other = await sampleLayout(64 * 1024);
    const before = await assertLayoutConsistent(other.dir);
    await expectFailure(['copy', `${registry.host}/bad/blob:v1`, `oci:${other.dir}:v1`], { mentions: [layer.digest, /content has digest/] });
    const afterwards = await assertLayoutConsistent(other.dir);
    assert.ok(afterwards.get('index.json')?.equals(before.get('index.json') as Buffer), 'index.json changed');
    for (const [path, bytes] of before) assert.ok(afterwards.get(path)?.equals(bytes), `${path} changed`);
  });
});

describe('a Link header that points to another host', () => {
  let registry: RegistryFixture;
  let proxy: FakeServer;

  before(async () => {
    registry = await startRegistry();
    await pushSample(registry, 'linked/app:v1');
    await pushSample(registry, 'linked/app:v2');
    await pushSample(registry, 'linked/other:v1');
    proxy = await startLinkProxy(registry.host);
  });
  after(async () => {
    await proxy.close();
    await registry.stop();
  });

  for (const { what, target, names } of [
    { what: 'tags', target: (host: string) => `${host}/linked/app`, names: ['v1', 'v2'] },
    { what: 'repositories', target: (host: string) => host, names: ['linked/app', 'linked/other'] },
  ]) {
    it(`ls of ${what} stops there, after the first page at most`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const result = await expectFailure(['ls', target(proxy.host)], { mentions: [target(proxy.host), /another host/, 'http://evil.example'] });
      // The first page, at most (distribution 2.8 ignores `n` for tags and sends them all at once).
      const printed = result.stdout.split('\n').filter(Boolean);
      assert.ok(printed.every((n) => names.includes(n)) && new Set(printed).size === printed.length, `printed ${JSON.stringify(result.stdout)}`);
      const listings = proxy.requests.filter((r) => r.startsWith(what === 'tags' ? 'GET /v2/linked/app/tags/list' : 'GET /v2/_catalog'));
      assert.equal(listings.length, 1, `one page asked for, no more: ${listings.join(', ')}`);
    });
  }
});

describe('invalid references', () => {
  it('whitespace and "!" in a tag', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['inspect', 'a/b:bad tag!'], { mentions: ['"a/b:bad tag!"', /whitespace/] });
  });

  it('a digest that is too short', { timeout: TEST_TIMEOUT_MS }, async () => {
    await expectFailure(['inspect', 'x@sha256:1234'], { mentions: ['"x@sha256:1234"', /64 lowercase hex/] });
  });

  it('an uppercase first component is a registry host, as Docker reads it', { timeout: TEST_TIMEOUT_MS }, async () => {
    // `UPPER/case` is host `UPPER`, repository `case` (distribution/reference's rule), so this is
    // a host that does not resolve rather than a syntax error.
    await expectFailure(['inspect', 'UPPER/case:tag'], { mentions: [/https:\/\/upper\b/] });
  });
});

describe('OCI layout folders', () => {
  it('copy into a folder that holds other files but no oci-layout is refused, and writes nothing there', { timeout: TEST_TIMEOUT_MS }, async () => {
    const dir = await tempDir('lazyimg-not-a-layout-');
    await writeFile(join(dir, 'report.pdf'), 'not an image');
    await expectFailure(['copy', `oci:${sample.dir}:sample`, `oci:${dir}:v1`], { mentions: [dir, /not empty/, /oci-layout/] });
    assert.deepEqual(await readdir(dir), ['report.pdf']);
  });

  it('verify names a layer whose bytes changed on disk at the same size, and the layout', { timeout: TEST_TIMEOUT_MS }, async () => {
    const layout = await sampleLayout(64 * 1024);
    const doc = await layout.getManifest(await layout.resolve('sample'));
    assert.equal(doc.kind, 'manifest');
    const layer = doc.manifest.layers[0]!;
    const path = join(layout.dir, 'blobs', 'sha256', layer.digest.slice('sha256:'.length));
    const bytes = await readFile(path);
    bytes[bytes.length >> 1]! ^= 0x20;
    await writeFile(path, bytes);
    await expectFailure(['verify', `oci:${layout.dir}:sample`], { mentions: [layer.digest, layout.dir, /content has digest/] });
  });
});

describe('usage errors exit 2', () => {
  for (const { args, mentions } of [
    { args: ['inspect'], mentions: [/missing required argument 'ref'/] },
    { args: ['ls', '--limit', '0', 'x'], mentions: ['--limit', /positive integer/] },
    { args: ['nope'], mentions: [/unknown command 'nope'/] },
    { args: ['verify', '--quick', '--deep', 'oci:x'], mentions: [/option '--deep' cannot be used with option '--quick'/] },
  ]) {
    it(`lazyimg ${args.join(' ')}`, { timeout: TEST_TIMEOUT_MS }, async () => {
      await expectFailure(args, { code: 2, mentions: [...mentions, /--help/] });
    });
  }
});

describe('indexes that lie', () => {
  it('verify --deep of a SOCI index whose zTOC lies about a mode names the layer, the file and the field', { timeout: TEST_TIMEOUT_MS }, async () => {
    const store = await tempLayout('lazyimg-bad-ztoc-');
    const fixture = await sociImage(store, await makeTar('mixed', '1'), 64 * 1024);
    const ztoc = decodeZtoc(fixture.ztocBytes, 'ztoc');
    const lie = encodeZtoc({ ...ztoc, entries: ztoc.entries.map((e) => (e.name === 'usr/bin/env' ? { ...e, mode: 0o655 } : e)) });
    await withZtocBytes(store, fixture, lie, 'lying');
    await expectFailure(['verify', '--deep', `oci:${store.dir}:lying`], {
      mentions: [`oci:${store.dir}:lying failed verification: 1 problem, first layer 1/1 (sha256:`, '…): zTOC entry "usr/bin/env": mode is 0655, the layer says 0755'],
      withinMs: 30_000,
    });
    await rm(store.dir, { recursive: true, force: true });
  });
});

describe('registries that send garbage', () => {
  it('a web server that is no registry says so, for a listing and for an image', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startFakeServer((_req, res) => res.writeHead(404, { 'content-type': 'text/html' }).end('<html><body>Not Found</body></html>'));
    try {
      await expectFailure(['ls', server.host], { mentions: [server.host, /does not speak the registry API: GET http:\/\/.*\/v2\/ answered 404/], never: [/catalog/] });
      await expectFailure(['inspect', `${server.host}/app:v1`], { mentions: [server.host, /does not speak the registry API/] });
    } finally {
      await server.close();
    }
  });

  it('random bytes as a manifest', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startFakeServer((req, res) => {
      if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (!req.url?.includes('/manifests/')) return void res.writeHead(404).end();
      const body = randomBytes(4096);
      res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': body.length }).end(req.method === 'HEAD' ? undefined : body);
    });
    try {
      // Several runs: each gets other bytes, and none may leak control characters to the terminal.
      for (let i = 0; i < 5; i++) {
        await expectFailure(['inspect', `${server.host}/garbage/app:v1`], { mentions: [`${server.host}/garbage/app:v1`, /not JSON/] });
      }
    } finally {
      await server.close();
    }
  });

  it('503 with Retry-After: 1 twice: retried, then it works', { timeout: TEST_TIMEOUT_MS }, async () => {
    let unavailable = 2;
    const server = await startFakeServer((req, res) => {
      if (req.url === '/v2/' && unavailable-- > 0) return void res.writeHead(503, { 'retry-after': '1' }).end();
      if (req.url === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}');
    });
    try {
      const started = Date.now();
      // Past /v2/, the 404 proves the 503s did not end the command.
      await expectFailure(['inspect', `${server.host}/busy/app:v1`], { mentions: [`${server.host}/busy/app:v1`, /manifest unknown/], never: [/503|unavailable/] });
      assert.equal(server.requests.filter((r) => r === 'GET /v2/').length, 3, server.requests.join(', '));
      assert.ok(Date.now() - started >= 1900, 'Retry-After: 1 was not honoured');
    } finally {
      await server.close();
    }
  });

  it('429 with Retry-After: 3600 fails at once', { timeout: TEST_TIMEOUT_MS }, async () => {
    const server = await startFakeServer((req, res) => {
      res.writeHead(429, { 'retry-after': '3600', 'content-type': 'application/json' });
      res.end(req.method === 'HEAD' ? undefined : '{"errors":[{"code":"TOOMANYREQUESTS","message":"pull rate limit exceeded"}]}');
    });
    try {
      await expectFailure(['inspect', `${server.host}/limited/app:v1`], { mentions: [`${server.host}/limited/app:v1`, /rate limit/], withinMs: 10_000 });
      await expectFailure(['ls', `${server.host}/limited/app`], { mentions: [`${server.host}/limited/app`, /rate limit/], withinMs: 10_000 });
    } finally {
      await server.close();
    }
  });
});

describe('an interrupted copy', () => {
  it('Ctrl-C while a layer downloads leaves the destination layout as it was', { timeout: TEST_TIMEOUT_MS }, async () => {
    const { descriptor, bytes, layers, config } = sampleManifest;
    const largest = [...layers].sort((a, b) => b.size - a.size)[0] as Descriptor;
    const blobs = new Map<string, Descriptor>([...layers, config].map((d) => [d.digest, d]));
    let stalled!: () => void;
    const stalling = new Promise<void>((resolve) => (stalled = resolve));
    const server = await startFakeServer((req, res) => {
      const path = req.url ?? '';
      if (path === '/v2/') return void res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      if (path.endsWith('/manifests/v1') || path.endsWith(`/manifests/${descriptor.digest}`)) {
        res.writeHead(200, { 'content-type': OCI_MANIFEST, 'content-length': bytes.length, 'docker-content-digest': descriptor.digest });
        return void res.end(req.method === 'HEAD' ? undefined : bytes);
      }
      const blob = blobs.get(path.split('/blobs/')[1] ?? '');
      if (!blob) return void res.writeHead(404).end();
      void readFile(join(sample.dir, 'blobs', 'sha256', blob.digest.slice('sha256:'.length))).then((data) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': data.length });
        if (req.method === 'HEAD') return void res.end();
        if (blob.digest !== largest.digest) return void res.end(data);
        // Half the layer, then nothing: the copy waits here until it is interrupted.
        res.write(data.subarray(0, data.length >> 1), () => stalled());
      });
    });
    const destination = await sampleLayout(64 * 1024);
    const before = await assertLayoutConsistent(destination.dir);
    try {
      const child = spawn(process.execPath, [CLI, 'copy', `${server.host}/slow/app:v1`, `oci:${destination.dir}:v1`], {
        env: { ...process.env, DOCKER_CONFIG: emptyConfig },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.resume();
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await Promise.race([stalling, exited]);
      // Let the half layer reach the temporary file before the interrupt.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const interrupted = Date.now();
      child.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 1, stderr);
      assert.match(stderr, /^lazyimg: [^\n]*[Cc]ancelled[^\n]*\n$/);
      assert.ok(Date.now() - interrupted < 5000, 'the CLI did not stop promptly after SIGINT');
    } finally {
      await server.close();
    }
    const afterwards = await assertLayoutConsistent(destination.dir);
    assert.ok(afterwards.get('index.json')?.equals(before.get('index.json') as Buffer), 'index.json changed');
    for (const [path, data] of before) assert.ok(afterwards.get(path)?.equals(data), `${path} changed`);
    assert.ok(!afterwards.has(join('blobs', 'sha256', largest.digest.slice('sha256:'.length))), 'the interrupted layer was stored');
  });
});
