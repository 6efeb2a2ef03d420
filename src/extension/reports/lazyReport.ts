// The lazy pull readiness report as Markdown: the verdict, then per layer whether stargz-snapshotter
// or soci-snapshotter would pull it lazily and why (not), with its TOC's or zTOC's counts. No vscode.
import { count, formatBytes } from '../../core/format.js';
import type { LayerLazyReport, VerifyResult } from '../../worker/protocol.js';

/** Lazily pullable by either snapshotter. */
export function isLazy(l: LayerLazyReport): boolean {
  return l.lazy.lazy || l.soci?.lazy === true;
}

export function renderLazyReport(reference: string, result: VerifyResult): string {
  const layers = result.layers ?? [];
  const lazy = layers.filter(isLazy).length;
  const verdict = !result.ok ? '**Not ready**: problems below would make a lazy pull fail or fall back.'
    : lazy === layers.length && lazy > 0 ? `**Ready**: all ${lazy} layers can be pulled lazily.`
      : lazy === 0 ? '**Not lazy**: no layer can be pulled lazily, so the whole image is pulled before the container starts.'
        : `**Partly lazy**: ${lazy} of ${layers.length} layers can be pulled lazily; the others are pulled whole.`;
  const lines = [
    `# Lazy pull readiness: \`${reference.replace(/`/g, "'")}\``,
    '',
    `Image \`${result.digest}\`. Checked as stargz-snapshotter checks a layer at mount and on read (footer, TOC, TOC digest against the layer annotation, layout, every chunk against its digest), and as soci-snapshotter does (the SOCI index the manifest names, each zTOC, every span against its digest).`,
    ...(result.deep ? ['', 'Deep check: each TOC entry against the tar header in its layer, and each zTOC field by field against the one rebuilt from its layer (files, offsets, modes, spans, checkpoint windows).'] : []),
    '',
    verdict,
    '',
    `Read back ${count(result.blobs, 'blob')} (${formatBytes(result.bytes)}), each against its digest and size${result.problems.length ? `: ${count(result.problems.length, 'problem')}` : ': all match'}.`,
    ...result.problems.map((p) => `- \`${p.digest}\`: ${escape(p.message)}`),
    ...(result.soci ?? []).flatMap((s) => [
      '',
      `SOCI ${s.version ?? ''} index \`${s.index}\` for manifest \`${s.image}\`: ${count(s.ztocs, 'zTOC')}${s.problems.length ? '.' : ', found where soci-snapshotter looks for it.'}`,
      ...s.problems.map((p) => `- Problem: ${escape(p)}`),
    ]),
    '',
    '| layer | size | lazy | files | chunks | prefetch |',
    '|---|---:|---|---:|---:|---|',
    ...layers.map((l) => `| ${l.label} | ${formatBytes(l.size)} | ${lazyWord(l)} | ${l.lazy.layout?.files ?? ''} | ${l.lazy.layout?.chunks ?? ''} | ${prefetch(l)} |`),
    ...layers.flatMap(layerSection),
  ];
  return `${lines.join('\n')}\n`;
}

function lazyWord(l: LayerLazyReport): string {
  const formats = [...(l.lazy.lazy ? [l.lazy.format === 'legacy-stargz' ? 'legacy stargz' : 'eStargz'] : []), ...(l.soci?.lazy ? ['SOCI'] : [])];
  if (formats.length) return `yes (${formats.join(', ')})`;
  return l.lazy.problems.length || l.soci?.problems.length ? '**no: broken**' : 'no: pulled whole';
}

function prefetch(l: LayerLazyReport): string {
  const p = l.lazy.layout?.prefetch;
  if (!p) return '';
  if (p.kind === 'landmark') return `${count(p.files, 'file')}, ${formatBytes(p.bytes)} before \`.prefetch.landmark\``;
  return p.kind === 'none' ? 'nothing (`.no.prefetch.landmark`)' : 'the snapshotter\'s default (no landmark)';
}

function layerSection(l: LayerLazyReport): string[] {
  const v = l.lazy;
  const layout = v.layout;
  const soci = l.soci;
  const why = v.lazy ? 'lazy: stargz-snapshotter mounts it without pulling it and fetches files on first read'
    : v.problems.length ? 'NOT lazy for stargz-snapshotter: the problems below make the mount or later reads fail'
      : soci?.lazy ? 'lazy through its SOCI zTOC: soci-snapshotter mounts it and fetches spans on first read'
        : 'not lazy: not eStargz and no zTOC, so it is pulled whole before the container starts';
  return [
    '',
    `## ${l.label}: ${isLazy(l) ? 'lazy' : 'not lazy'}`,
    '',
    `\`${l.digest}\`, ${formatBytes(l.size)}: ${why}.`,
    '',
    ...(v.tocDigest ? [`- TOC digest: \`${v.tocDigest}\``] : []),
    ...(layout ? [
      `- ${count(layout.files, 'file')}, ${count(layout.dirs, 'directory', 'directories')}, ${count(layout.links, 'link')}; ${formatBytes(layout.bytes)} of file data in ${count(layout.chunks, 'chunk')}, ${v.chunksVerified} verified against their digests`,
      ...(v.headersVerified === undefined ? [] : [`- Deep: ${count(v.headersVerified, 'TOC entry', 'TOC entries')} match the tar headers in the layer`]),
      `- Prefetch: ${prefetch(l)}`,
    ] : []),
    ...v.problems.map((p) => `- Problem: ${escape(p)}`),
    ...v.notes.map((n) => `- Note: ${escape(n)}`),
    ...(soci ? [
      `- SOCI: zTOC \`${soci.ztoc}\`, ${count(soci.files, 'entry', 'entries')}, ${count(soci.spans, 'span')}, ${soci.spansVerified} verified against their digests${soci.rebuilt && soci.lazy ? '; the same zTOC as rebuilt from the layer, field by field' : ''}`,
      ...(soci.prefetch?.spans ? [`- SOCI prefetch artifact \`${soci.prefetch.artifact}\`: ${count(soci.prefetch.spans, 'span')} (${formatBytes(soci.prefetch.bytes)}) fetched at mount where \`[prefetch] enable = true\`, holding ${count(soci.prefetch.files, 'file')} whole`] : []),
      ...soci.problems.map((p) => `- SOCI problem: ${escape(p)}`),
    ] : []),
  ];
}

/** Text from image content is shown as text, never as Markdown or HTML. */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]<>|#]/g, '\\$&');
}
