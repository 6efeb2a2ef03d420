// The image report's data: per platform, each layer as `inspect` sees it (the core's one laziness
// answer), what the worker's `verify` found in its TOC or zTOC, and what lazy reads fetched from it;
// then the findings, each with the action that would fix it. No vscode.
import { count, formatBytes } from '../../core/format.js';
import type { InspectResult, LayerInfo, ManifestInfo } from '../../core/jobs/index.js';
import { isImageConfig } from '../../core/image/index.js';
import { formatPlatform } from '../../core/oci/index.js';
import type { LayerLazyReport, LayoutSummary, VerifyResult } from '../../worker/protocol.js';
import type { Finding, ImageReportView, IndexCheck, LayerRow, LazyState, PlatformSection } from '../webviews/imageReportData.js';

/** Lazily pullable by either snapshotter, as verify found it. */
export function isLazy(l: LayerLazyReport): boolean {
  return l.lazy.lazy || l.soci?.lazy === true;
}

/** What lazy reads fetched from a layer (by digest) in this window. */
export type FetchedLookup = (digest: string) => { bytes: number; reads: number } | undefined;

export function imageReportView(inspect: InspectResult, verify: VerifyResult | undefined, fetched: FetchedLookup): ImageReportView {
  // A verification of another image (the tag has moved since) says nothing about these layers.
  const stale = verify !== undefined && verify.digest !== inspect.digest;
  const current = stale ? undefined : verify;
  const checked = new Map((current?.layers ?? []).map((l) => [l.digest, l]));
  const platforms = inspect.manifests
    .filter((m) => !m.artifactType && isImageConfig(m.config.mediaType))
    .map((m) => platformSection(m, checked, current, fetched));
  const findings: Finding[] = current
    ? current.problems.map((p) => ({ level: 'problem', text: `${p.digest}: ${p.message}`, actions: ['verify'] }))
    : [{ level: 'note', text: stale ? 'The tag has moved since it was verified: verify it again.' : 'Not verified yet: the table says what the manifests and SOCI indexes claim. Verify reads each TOC and zTOC and checks every chunk and span against its digest.', actions: ['verify', 'verifyDeep'] }];
  return {
    digest: inspect.digest,
    platforms,
    ...(verify ? { verification: { ok: verify.ok, deep: verify.deep === true, blobs: verify.blobs, bytes: verify.bytes, stale } } : {}),
    findings,
  };
}

function platformSection(m: ManifestInfo, checked: Map<string, LayerLazyReport>, verify: VerifyResult | undefined, fetched: FetchedLookup): PlatformSection {
  const layers = m.layers.map((info, i) => layerRow(info, i + 1, m, checked.get(info.digest), fetched(info.digest)));
  const findings = m.layers.flatMap((info, i) => layerFindings(layers[i]!, checked.get(info.digest)));
  for (const s of verify?.soci ?? []) {
    if (s.image === m.digest) findings.push(...s.problems.map((p): Finding => ({ level: 'problem', text: `SOCI index ${s.index}: ${p}`, actions: ['index'] })));
  }
  return {
    name: m.platform ? formatPlatform(m.platform) : 'image',
    digest: m.digest,
    layers,
    sociIndexes: (m.soci ?? []).map((s) => ({ digest: s.index, version: s.version, ztocs: s.ztocs })),
    verdict: verdict(layers, findings.some((f) => f.level === 'problem')),
    findings,
  };
}

function layerRow(info: LayerInfo, index: number, m: ManifestInfo, checked: LayerLazyReport | undefined, reads: LayerRow['fetched']): LayerRow {
  const version = info.soci ? m.soci?.find((s) => s.index === info.soci!.index)?.version : undefined;
  const formats = [
    ...(info.lazy ? [checked?.lazy.format === 'legacy-stargz' ? 'legacy stargz' : 'eStargz'] : []),
    ...(info.soci ? [`SOCI${version ? ` ${version}` : ''}`] : []),
  ];
  return {
    index,
    digest: info.digest,
    size: info.size,
    ...(info.lazy?.uncompressedSize !== undefined ? { uncompressedSize: info.lazy.uncompressedSize } : {}),
    mediaType: info.mediaType,
    state: lazyState(info, checked),
    formats,
    annotations: Object.entries(info.annotations),
    ...(checked && (info.lazy || checked.lazy.layout) ? { toc: tocCheck(checked) } : {}),
    ...(checked?.soci ? { ztoc: ztocCheck(checked.soci) } : {}),
    ...(reads ? { fetched: reads } : {}),
  };
}

/** What the manifests claim, unless verify found the claim does not hold. */
function lazyState(info: LayerInfo, checked: LayerLazyReport | undefined): LazyState {
  const estargz = info.lazy !== undefined && (checked?.lazy.lazy ?? true);
  const soci = info.soci !== undefined && (checked?.soci?.lazy ?? true);
  if (estargz && soci) return 'both';
  if (estargz) return 'estargz';
  if (soci) return 'soci';
  return info.lazy || info.soci ? 'broken' : 'none';
}

function tocCheck({ lazy }: LayerLazyReport): IndexCheck {
  const { layout, headersVerified } = lazy;
  const details = [
    ...(layout ? [prefetchText(layout.prefetch)] : []),
    ...(headersVerified !== undefined ? [`Deep: ${count(headersVerified, 'TOC entry', 'TOC entries')} match the tar headers in the layer`] : []),
  ];
  return { files: layout?.files ?? 0, pieces: layout?.chunks ?? 0, piecesVerified: lazy.chunksVerified, ok: lazy.lazy, details };
}

function prefetchText(p: LayoutSummary['prefetch']): string {
  if (p.kind === 'landmark') return `Prefetch: ${count(p.files, 'file')}, ${formatBytes(p.bytes)} before .prefetch.landmark`;
  return p.kind === 'none' ? 'Prefetch: nothing (.no.prefetch.landmark)' : 'Prefetch: the snapshotter\'s default (no landmark)';
}

function ztocCheck(soci: NonNullable<LayerLazyReport['soci']>): IndexCheck {
  const { prefetch } = soci;
  const details = [
    ...(soci.rebuilt && soci.lazy ? ['Deep: the same zTOC as rebuilt from the layer, field by field'] : []),
    ...(prefetch?.spans ? [`Prefetch artifact: ${count(prefetch.spans, 'span')} (${formatBytes(prefetch.bytes)}) fetched at mount, ${count(prefetch.files, 'file')} whole`] : []),
  ];
  return { files: soci.files, pieces: soci.spans, piecesVerified: soci.spansVerified, ok: soci.lazy, details };
}

function layerFindings(row: LayerRow, checked: LayerLazyReport | undefined): Finding[] {
  const name = `Layer ${row.index}`;
  const findings: Finding[] = [];
  if (row.state === 'none') {
    // Verify's note for a layer that is not eStargz says why it is not (e.g. not gzip).
    const why = checked?.lazy.format === 'none' ? checked.lazy.notes[0] : undefined;
    findings.push({ level: 'note', text: `${name}: ${why ?? 'no eStargz TOC and no SOCI zTOC: pulled whole'}.`, actions: ['convert', 'index'] });
  }
  if (!checked) return findings;
  findings.push(...checked.lazy.problems.map((p): Finding => ({ level: 'problem', text: `${name} (eStargz): ${p}`, actions: ['convert'] })));
  if (checked.lazy.format !== 'none') findings.push(...checked.lazy.notes.map((n): Finding => ({ level: 'note', text: `${name} (eStargz): ${n}`, actions: ['convert'] })));
  findings.push(...(checked.soci?.problems ?? []).map((p): Finding => ({ level: 'problem', text: `${name} (SOCI): ${p}`, actions: ['index'] })));
  return findings;
}

function verdict(layers: LayerRow[], problems: boolean): string {
  const lazy = layers.filter((l) => l.state !== 'none' && l.state !== 'broken').length;
  if (problems) return 'Not ready: the problems below would make a lazy pull fail or fall back.';
  if (layers.length > 0 && lazy === layers.length) return `Lazy: all ${count(lazy, 'layer')} can be pulled lazily.`;
  if (lazy === 0) return 'Not lazy: every layer is pulled whole before the container starts.';
  return `Partly lazy: ${lazy} of ${count(layers.length, 'layer')} can be pulled lazily; the others are pulled whole.`;
}
