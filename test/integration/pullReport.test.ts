// `lazyimg pull` against the real stack (containerd v2.2.9 with the stargz and soci daemons,
// started by our own control code): each layer is reported remote-mounted or downloaded, with the
// daemon's reason, and set against the prediction. The small three-layer sample image
// (scripts/sampleImage.ts: two small layers around a 12 MiB one) is enough: the point is which
// layers, not their size. Each pull runs in a namespace of its own, so no pull finds the
// snapshots of another. The fallbacks: a SOCI index deleted from the registry, an eStargz layer
// whose TOC-digest annotation is wrong, and layers under SOCI's 10 MiB minimum size.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSampleImage } from '../../scripts/sampleImage.js';
import { OciLayoutStore } from '../../src/core/oci/index.js';
import { renderPull, type PullReport } from '../../src/core/snapshotter/index.js';
import { requireCachedTool, requireTool } from '../helpers/tools.js';
import { runCli } from './fixtures/cli.js';
import { startRegistry, type RegistryFixture } from './fixtures/registry.js';
import { startSnapshotters, type DaemonKind, type SnapshotterStack } from './fixtures/snapshotters.js';

const REPO = 'lazy/sample';
const MANIFEST_TYPES = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json';
const TOC_DIGEST = 'containerd.io/snapshot/stargz/toc.digest';

interface Descriptor { mediaType: string; digest: string; size: number; artifactType?: string; annotations?: Record<string, string> }

describe('lazyimg pull: per layer, lazy or downloaded and why, against the prediction', { timeout: 300_000 }, () => {
  let registry: RegistryFixture;
  let stack: SnapshotterStack;
  let work: string;
  let namespaces = 0;

  async function lazyimg(...args: string[]): Promise<string> {
    const r = await runCli(['--insecure', registry.host, ...args]);
    assert.equal(r.code, 0, `lazyimg ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  /** `lazyimg pull --require-lazy --json` of `tag` in a fresh namespace; the report, its text and the exit code. */
  async function pull(t: { diagnostic(message: string): void }, tag: string, kind: DaemonKind): Promise<{ report: PullReport; code: number; stderr: string }> {
    const daemon = stack.daemons[kind]!;
    const r = await runCli([
      '--insecure', registry.host, 'pull', `${registry.host}/${REPO}${tag.startsWith('@') ? tag : `:${tag}`}`, '--snapshotter', kind, '--containerd', stack.address,
      '--namespace', `case-${++namespaces}`, '--log', daemon.logFile, '--daemon-root', daemon.root, '--metrics', daemon.metricsAddress, '--plain-http', '--require-lazy', '--json',
      '--ctr', requireCachedTool('containerd-v2.2.9/ctr'), '--ctr-remote', requireTool('ctr-remote', 'apt-get install stargz-snapshotter'),
    ]);
    const report = JSON.parse(r.stdout) as PullReport;
    t.diagnostic(`exit ${r.code}; ${r.stderr.trim()}\n${renderPull(report).join('\n')}`);
    return { report, code: r.code, stderr: r.stderr };
  }

  async function manifest(ref: string): Promise<{ bytes: string; doc: { mediaType?: string; manifests?: Descriptor[]; layers?: Descriptor[] } }> {
    const res = await fetch(`http://${registry.host}/v2/${REPO}/manifests/${ref}`, { headers: { accept: MANIFEST_TYPES } });
    assert.equal(res.status, 200, `GET manifest ${ref}`);
    const bytes = await res.text();
    return { bytes, doc: JSON.parse(bytes) as never };
  }

  before(async () => {
    registry = await startRegistry();
    work = await mkdtemp(join(tmpdir(), 'lazyimg-pullreport-'));
    const layout = await OciLayoutStore.open(join(work, 'layout'), { create: true });
    await writeSampleImage(layout, 'sample');
    // A second image differing in its large layer only: the fallback cases' own layers.
    await writeSampleImage(layout, 'other', 11 * 1024 * 1024);
    const repo = `${registry.host}/${REPO}`;
    await lazyimg('copy', `oci:${join(work, 'layout')}:sample`, `${repo}:src`);
    await lazyimg('copy', `oci:${join(work, 'layout')}:other`, `${repo}:other`);
    await lazyimg('convert', '--format', 'estargz', `${repo}:src`, `${repo}:esgz`);
    await lazyimg('index', '--min-layer-size', '0', `${repo}:src`, `${repo}:soci-all`);
    await lazyimg('index', `${repo}:src`, `${repo}:soci-min`);
    await lazyimg('convert', '--format', 'estargz', `${repo}:other`, `${repo}:other-esgz`);
    await lazyimg('index', '--min-layer-size', '0', `${repo}:other`, `${repo}:other-soci`);
    stack = await startSnapshotters();
  });
  after(async () => {
    await stack?.stop();
    await registry?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  for (const [tag, kind] of [['esgz', 'stargz'], ['soci-all', 'soci']] as const) {
    it(`${tag} through ${kind}: every layer remote-mounted, as predicted, exit 0 with --require-lazy`, async (t) => {
      const { report, code, stderr } = await pull(t, tag, kind);
      assert.equal(code, 0, stderr);
      assert.equal(report.failed, undefined);
      assert.equal(report.layers.length, 3);
      for (const l of report.layers) {
        assert.equal(l.outcome, 'remote', `layer ${l.index}`);
        assert.equal(l.prepared, true, `layer ${l.index}: the daemon logged a remote snapshot`);
        assert.equal(l.predicted.lazy, true);
        assert.equal(l.mismatch, undefined);
        assert.equal(l.remoteLabel, true, `layer ${l.index}: containerd's snapshot is labelled remote`);
        assert.ok(l.mountPoint?.startsWith(`${stack.daemons[kind]!.root}/`), `layer ${l.index} mounted under the daemon root: ${l.mountPoint}`);
        assert.ok(l.fetched !== undefined && l.fetched <= l.size, `layer ${l.index}: ${l.fetched} of ${l.size} bytes fetched at mount`);
        if (l.size > 10 * 1024 * 1024) assert.ok(l.fetched < l.size / 50, `the large layer ${l.index}: ${l.fetched} of ${l.size} bytes fetched at mount`);
      }
    });
  }

  it("containerd 1.x's ctr for soci: refused before anything is pulled, naming the version and what to use", async () => {
    const oldCtr = requireTool('ctr', 'apt-get install containerd (Debian\'s, 1.6)');
    const r = await runCli([
      '--insecure', registry.host, 'pull', `${registry.host}/${REPO}:soci-all`, '--snapshotter', 'soci', '--containerd', stack.address,
      '--namespace', stack.namespace, '--plain-http', '--ctr', oldCtr,
    ]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is containerd 1\.\d+\S*'s ctr: soci needs containerd v2's ctr/);
    assert.equal((await stack.ctr('images', 'ls', '-q')).trim(), '', 'nothing was pulled');
  });

  // Before the deleted-index case: once soci v0.16 had unpacked these small layers for that one, in
  // another namespace, this pull failed in containerd ("target snapshot ... in backend: not found").
  it('layers under SOCI\'s 10 MiB minimum: soci-snapshotter fetches them whole itself (a local snapshot), as predicted; non-zero exit', async (t) => {
    const { report, code } = await pull(t, 'soci-min', 'soci');
    const [first, second, third] = report.layers;
    assert.equal(second!.outcome, 'remote', 'the 12 MiB layer has a zTOC');
    for (const l of [first!, third!]) {
      assert.equal(l.predicted.lazy, false);
      assert.match(l.predicted.text, /10 MiB minimum/);
      assert.equal(l.outcome, 'downloaded', `layer ${l.index}`);
      assert.equal(l.prepared, false);
      assert.equal(l.mismatch, undefined, 'reality agrees with the prediction');
      assert.ok(l.reasons.some((r) => /no ztoc for layer/.test(r)), `soci says why: ${JSON.stringify(l.reasons)}`);
      assert.ok(l.notes.some((n) => /local snapshot/.test(n)), `the daemon fetched it whole itself: ${JSON.stringify(l.notes)}`);
      // soci v0.16 labels that local snapshot remote: the label alone would call it lazy.
      assert.equal(l.remoteLabel, true);
    }
    assert.notEqual(code, 0);
  });
  it('a SOCI v2 image whose SOCI index manifest was deleted: the index fails to pull; the image manifest pulls with every layer downloaded, and soci says why; non-zero exits', async (t) => {
    const index = (await manifest('other-soci')).doc;
    const soci = index.manifests!.find((m) => m.artifactType === 'application/vnd.amazon.soci.index.v2+json')!;
    const image = index.manifests!.find((m) => m.artifactType === undefined)!;
    const res = await fetch(`http://${registry.host}/v2/${REPO}/manifests/${soci.digest}`, { method: 'DELETE' });
    assert.equal(res.status, 202, 'the registry deletes the SOCI index manifest');
    // containerd v2's transfer service fetches every manifest the index lists: the pull fails.
    const whole = await pull(t, 'other-soci', 'soci');
    assert.notEqual(whole.code, 0);
    assert.match(whole.report.failed ?? '', /not found/);
    // The image manifest still names its SOCI index in an annotation; pulled by digest it works.
    const { report, code } = await pull(t, `@${image.digest}`, 'soci');
    assert.notEqual(code, 0);
    assert.equal(report.failed, undefined, 'the pull itself works: containerd downloads');
    for (const l of report.layers) {
      assert.equal(l.outcome, 'downloaded', `layer ${l.index}`);
      assert.equal(l.predicted.lazy, false, 'the prediction sees the index is missing');
      assert.match(l.predicted.text, /missing/);
      assert.equal(l.mismatch, undefined);
      assert.ok(l.reasons.some((r) => /SOCI index/.test(r)), `layer ${l.index}: soci's reason: ${JSON.stringify(l.reasons)}`);
    }
  });

  it('an eStargz layer whose TOC-digest annotation is wrong: that layer downloaded, the mismatch flagged with stargz\'s reason; non-zero exit', async (t) => {
    const { doc } = await manifest('other-esgz');
    const bad = structuredClone(doc);
    bad.layers![1]!.annotations![TOC_DIGEST] = `sha256:${'0'.repeat(64)}`;
    const put = await fetch(`http://${registry.host}/v2/${REPO}/manifests/other-esgz-badtoc`, { method: 'PUT', headers: { 'content-type': doc.mediaType! }, body: JSON.stringify(bad) });
    assert.equal(put.status, 201, 'the edited manifest pushed by a new tag');
    const { report, code } = await pull(t, 'other-esgz-badtoc', 'stargz');
    assert.notEqual(code, 0);
    const [first, second, third] = report.layers;
    assert.equal(second!.outcome, 'downloaded');
    assert.equal(second!.predicted.lazy, true, 'the annotation is there, so the prediction says lazy');
    assert.match(second!.mismatch ?? '', /silent fallback/);
    assert.ok(second!.reasons.length > 0, 'stargz says why');
    for (const l of [first!, third!]) assert.equal(l.outcome, 'remote', `layer ${l.index}`);
  });
});
