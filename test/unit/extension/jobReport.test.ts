// The job report's data from a job's record: each layer before and after with its time (none from
// a worker before protocol 1.7), the new references, and for a job that did not end well how far
// each layer got and what it left, as the worker said or, from an older worker, as the protocol
// promises. Only jobs that make lazy images get one.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageReference } from '../../../src/core/oci/index.js';
import type { JobRecord } from '../../../src/extension/jobs/JobManager.js';
import { jobReportData } from '../../../src/extension/reports/jobReport.js';
import type { ConvertResult, IndexResult } from '../../../src/worker/protocol.js';
import { fakeDigest } from '../helpers/oci.js';

const LAYOUT: ImageReference = { kind: 'oci-layout', path: '/work/images/app', tag: 'v1' };
const REGISTRY: ImageReference = { kind: 'registry', registry: '127.0.0.1:5000', repository: 'team/app', tag: 'v1' };

function record(fields: Partial<JobRecord>): JobRecord {
  return {
    id: 3, status: 'succeeded', started: 1_000, ended: 4_500, title: 'Convert it', label: 'eStargz app:v1 → v1-esgz', where: 'images/app',
    makes: 'eStargz', source: LAYOUT, destination: { ...LAYOUT, tag: 'v1-esgz' }, ...fields,
  };
}

function converted(seconds?: number): ConvertResult {
  return {
    descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: fakeDigest('d'), size: 900 },
    layers: [{ source: fakeDigest('1'), digest: fakeDigest('e'), size: 2_100_000, tocDigest: fakeDigest('t'), sourceSize: 2_000_000, ...(seconds === undefined ? {} : { seconds }) }],
    missing: [],
  };
}

describe('the job report data', () => {
  it('shows a converted layer before and after, with its time, and the new image by tag and by digest', () => {
    const data = jobReportData(record({ result: converted(0.5) }))!;
    assert.equal(data.seconds, 3.5);
    assert.equal(data.made, 'eStargz layer');
    assert.deepEqual(data.sections, [{
      layers: [{ index: 1, digest: fakeDigest('1'), size: 2_000_000, made: { digest: fakeDigest('e'), size: 2_100_000 }, tocDigest: fakeDigest('t'), seconds: 0.5 }],
    }]);
    assert.deepEqual(data.references, [
      { what: 'tag', reference: 'oci:/work/images/app:v1-esgz', image: true },
      { what: 'digest', reference: `oci:/work/images/app@${fakeDigest('d')}`, image: true },
    ]);
    assert.equal(data.left, undefined);
  });

  it('has no time for a layer converted by a worker before protocol 1.7', () => {
    assert.equal(jobReportData(record({ result: converted() }))!.sections[0]!.layers[0]!.seconds, undefined);
  });

  it('shows each platform\'s zTOCs and skipped layers, and names the SOCI indexes as references that are not images', () => {
    const layers = [
      { digest: fakeDigest('1'), size: 20_000_000, ztoc: { digest: fakeDigest('z'), size: 40_000, spans: 5, files: 12 }, seconds: 0.2 },
      { digest: fakeDigest('2'), size: 300, skipped: 'smaller than the minimum layer size (10485760 bytes)' },
    ];
    const result: IndexResult = {
      version: 'v2',
      image: { mediaType: 'application/vnd.oci.image.index.v1+json', digest: fakeDigest('i'), size: 700 },
      indexes: ['amd64', 'arm64'].map((architecture, n) => ({
        platform: { os: 'linux', architecture },
        manifest: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: fakeDigest(`${n + 5}`), size: 500 },
        index: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: fakeDigest(`${n + 7}`), size: 600 },
        layers,
      })),
    };
    const data = jobReportData(record({ makes: 'SOCI v2', result, destination: { ...REGISTRY, tag: 'v1-soci' } }))!;
    assert.equal(data.made, 'zTOC');
    assert.deepEqual(data.sections.map((s) => [s.platform, s.index]), [['linux/amd64', fakeDigest('7')], ['linux/arm64', fakeDigest('8')]]);
    assert.deepEqual(data.sections[0]!.layers[1], { index: 2, digest: fakeDigest('2'), size: 300, made: undefined, spans: undefined, files: undefined, skipped: layers[1]!.skipped, seconds: undefined });
    assert.deepEqual(data.references.map((r) => [r.what, r.reference, r.image]), [
      ['tag', '127.0.0.1:5000/team/app:v1-soci', true],
      ['digest', `127.0.0.1:5000/team/app@${fakeDigest('i')}`, true],
      ['SOCI index (linux/amd64)', `127.0.0.1:5000/team/app@${fakeDigest('7')}`, false],
      ['SOCI index (linux/arm64)', `127.0.0.1:5000/team/app@${fakeDigest('8')}`, false],
    ]);
  });

  it('shows a cancelled job\'s layers as far as they were read, and the blobs it said it left', () => {
    const data = jobReportData(record({
      status: 'cancelled', detail: 'cancelled by the user',
      progress: [
        { id: fakeDigest('1'), label: 'layer 1/2', done: 2_000_000, total: 2_000_000 },
        { id: fakeDigest('2'), label: 'layer 2/2', done: 1_000, total: 4_000 },
        { id: 'workload', label: 'run the workload (ms)', done: 10, total: 10 },
      ],
      written: [{ digest: fakeDigest('e'), size: 2_100_000, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' }],
    }))!;
    assert.deepEqual(data.sections[0]!.layers, [
      { index: 1, label: 'layer 1/2', digest: fakeDigest('1'), size: 2_000_000, read: 2_000_000 },
      { index: 2, label: 'layer 2/2', digest: fakeDigest('2'), size: 4_000, read: 1_000 },
    ]);
    assert.deepEqual(data.references, []);
    assert.equal(data.left?.store, 'oci:/work/images/app');
    assert.deepEqual(data.left?.kept, [{ what: 'eStargz layer', digest: fakeDigest('e'), size: 2_100_000, tag: undefined }]);
    assert.match(data.left?.cleaned.join('\n') ?? '', /temporary files and folders.*removed/);
    assert.match(data.left?.cleaned.join('\n') ?? '', /No manifest and no tag were written/);
  });

  it('says for a failed job of an older worker only what the protocol promises, and that registry uploads are cancelled', () => {
    const data = jobReportData(record({ status: 'failed', detail: 'Cannot push', destination: { ...REGISTRY, tag: 'v1-esgz' } }))!;
    assert.equal(data.left?.kept, undefined);
    assert.equal(data.left?.store, '127.0.0.1:5000/team/app');
    const cleaned = data.left?.cleaned.join('\n') ?? '';
    assert.match(cleaned, /Unfinished uploads to the registry: cancelled/);
    assert.match(cleaned, /did not say which blobs it stored \(it speaks a protocol before 1\.7\)/);
  });

  it('says which tag a failed job wrote, if it wrote one', () => {
    const data = jobReportData(record({
      makes: 'SOCI v1', status: 'failed',
      written: [{ digest: fakeDigest('m'), size: 500, mediaType: 'application/vnd.oci.image.manifest.v1+json', tag: 'v1' }],
    }))!;
    assert.equal(data.left?.kept?.[0]?.what, 'manifest');
    assert.match(data.left?.cleaned.join('\n') ?? '', /Written with a tag: v1\./);
  });

  it('describes only jobs that make lazy images, once they have ended', () => {
    assert.equal(jobReportData(record({ makes: undefined })), undefined);
    assert.equal(jobReportData(record({ status: 'running' })), undefined);
  });
});
