// The job report's data, from a job's record: each layer before and after (size and time), the TOC
// or zTOC made, and the new references; for a job that failed or was cancelled, how far each layer
// got (its last progress), what it left in its destination (as the worker said, protocol 1.7) and
// what was cleaned up (as the protocol requires of every worker). No vscode.
import { formatPlatform, formatReference, isDigest, MediaType, type ImageReference } from '../../core/oci/index.js';
import { PREFETCH_MEDIA_TYPE, SOCI_INDEX_V1, SOCI_INDEX_V2, ZTOC_MEDIA_TYPE } from '../../core/soci/index.js';
import type { ConvertResult, IndexResult, OptimizeResult } from '../../worker/protocol.js';
import type { JobRecord } from '../jobs/JobManager.js';
import type { JobLayerRow, JobReportData, JobSection, Leftovers, NewReference } from '../webviews/jobReportData.js';

/** What a written blob or manifest is, by media type; gzip layers are what the job makes (or copies). */
function whatIs(mediaType: string, estargz: boolean): string {
  switch (mediaType) {
    case MediaType.OciLayerGzip:
    case MediaType.DockerLayerGzip:
      return estargz ? 'eStargz layer' : 'layer';
    case ZTOC_MEDIA_TYPE:
      return 'zTOC';
    case PREFETCH_MEDIA_TYPE:
      return 'prefetch artifact';
    case SOCI_INDEX_V1:
    case SOCI_INDEX_V2:
      return 'SOCI index config';
    case MediaType.OciConfig:
    case MediaType.DockerConfig:
      return 'image config';
    case MediaType.OciManifest:
    case MediaType.DockerManifest:
      return 'manifest';
    case MediaType.OciIndex:
    case MediaType.DockerManifestList:
      return 'image index';
    default:
      return mediaType.startsWith('application/vnd.oci.image.layer.') ? 'layer' : mediaType;
  }
}

const MANIFESTS: ReadonlySet<string> = new Set([MediaType.OciManifest, MediaType.DockerManifest, MediaType.OciIndex, MediaType.DockerManifestList]);

/** `ghcr.io/org/app` or `oci:/work/images/app`: the store, without tag or digest. */
function storeOf(ref: ImageReference): string {
  return formatReference({ ...ref, tag: undefined, digest: undefined });
}

function pinned(ref: ImageReference, digest: string): string {
  return formatReference({ ...ref, tag: undefined, digest });
}

/**
 * The report of a job that makes lazy images, or undefined for any other. `startupReport`: the
 * host can open an optimize job's startup profile report.
 */
export function jobReportData(record: JobRecord, startupReport = false): JobReportData | undefined {
  const { makes, status, destination } = record;
  if (makes === undefined || status === 'running') return undefined;
  const estargz = makes === 'eStargz';
  const result = status === 'succeeded' ? record.result as ConvertResult | IndexResult | OptimizeResult | undefined : undefined;
  const data: JobReportData = {
    key: `${record.id}@${record.started}`,
    title: record.title,
    format: makes,
    status,
    seconds: ((record.ended ?? record.started) - record.started) / 1000,
    detail: record.detail ?? '',
    source: record.source ? formatReference(record.source) : '',
    destination: destination && formatReference(destination),
    made: estargz ? 'eStargz layer' : 'zTOC',
    sections: result ? made(result) : [{ layers: progressRows(record) }],
    references: result && destination ? references(result, destination) : [],
  };
  if (status !== 'succeeded' && destination) data.left = leftovers(record, destination, estargz);
  if (result && 'profile' in result) {
    const { files, run } = (result as OptimizeResult).profile;
    data.startup = { files: files.length, how: run.stopped ? `stopped after its ${run.periodSeconds} s` : `exited with ${run.exitCode ?? 'a signal'} after ${run.seconds} s`, report: startupReport && record.report !== undefined };
  }
  return data;
}

/** A successful job's layers: eStargz, each source layer and the layer written for it; SOCI, each index's layers and zTOCs. */
function made(result: ConvertResult | IndexResult | OptimizeResult): JobSection[] {
  if ('layers' in result) {
    return [{
      layers: (result.layers ?? []).map((l, i): JobLayerRow => ({
        index: i + 1, digest: l.source, size: l.sourceSize, made: { digest: l.digest, size: l.size }, tocDigest: l.tocDigest, seconds: l.seconds,
      })),
    }];
  }
  const several = (result.indexes ?? []).length > 1;
  return (result.indexes ?? []).map((ix): JobSection => ({
    platform: several || ix.platform ? formatPlatform(ix.platform) : undefined,
    index: ix.index.digest,
    prefetch: ix.prefetch && {
      artifacts: ix.prefetch.artifacts.map((a) => ({ layer: a.layer, digest: a.digest, size: a.size, spans: a.spans.reduce((n, s) => n + s.endSpan - s.startSpan + 1, 0) })),
      files: ix.prefetch.files.length,
      missing: ix.prefetch.missing,
    },
    layers: (ix.layers ?? []).map((l, i): JobLayerRow => ({
      index: i + 1, digest: l.digest, size: l.size, made: l.ztoc && { digest: l.ztoc.digest, size: l.ztoc.size },
      spans: l.ztoc?.spans, files: l.ztoc?.files, skipped: l.skipped, seconds: l.seconds,
    })),
  }));
}

/** A job that did not end well: its blobs as its last progress report had them (the items named by a digest). */
function progressRows(record: JobRecord): JobLayerRow[] {
  return (record.progress ?? []).filter((i) => isDigest(i.id)).map((i, n) => ({ index: n + 1, label: i.label, digest: i.id, size: i.total, read: i.done }));
}

/** The new image by tag and by digest; with SOCI, each index by digest too (an artifact, not an image to copy). */
function references(result: ConvertResult | IndexResult | OptimizeResult, destination: ImageReference): NewReference[] {
  const top = 'descriptor' in result ? result.descriptor : result.image;
  const refs: NewReference[] = [];
  if (destination.tag !== undefined) refs.push({ what: 'tag', reference: formatReference({ ...destination, digest: undefined }), image: true });
  refs.push({ what: 'digest', reference: pinned(destination, top.digest), image: true });
  for (const ix of 'indexes' in result ? result.indexes ?? [] : []) {
    refs.push({ what: `SOCI index${ix.platform ? ` (${formatPlatform(ix.platform)})` : ''}`, reference: pinned(destination, ix.index.digest), image: false });
  }
  return refs;
}

function leftovers(record: JobRecord, destination: ImageReference, estargz: boolean): Leftovers {
  const written = record.written;
  const store = storeOf(destination);
  const cleaned = [
    'The job\'s temporary files and folders, with the partial output of the layers in progress: removed (the protocol requires it of every worker, on failure and cancellation alike).',
    ...(destination.kind === 'registry' ? ['Unfinished uploads to the registry: cancelled, so the registry keeps no partial blob.'] : []),
  ];
  if (written === undefined) {
    cleaned.push('The worker did not say which blobs it stored (it speaks a protocol before 1.7). The protocol lets completely stored blobs remain, and writes no manifest or tag after a failure.');
    return { store, cleaned };
  }
  const manifests = written.filter((w) => MANIFESTS.has(w.mediaType));
  const tags = written.flatMap((w) => (w.tag !== undefined ? [w.tag] : []));
  if (manifests.length === 0) cleaned.push('No manifest and no tag were written: nothing refers to the blobs kept.');
  else if (tags.length === 0) cleaned.push(`No tag was written; ${manifests.length === 1 ? 'one manifest was' : `${manifests.length} manifests were`} stored untagged.`);
  else cleaned.push(`Written with a tag: ${tags.join(', ')}.`);
  return { store, kept: written.map((w) => ({ what: whatIs(w.mediaType, estargz), digest: w.digest, size: w.size, tag: w.tag })), cleaned };
}
