// The lazy pull readiness report as Markdown: the verdict, then per layer whether stargz-snapshotter
// would pull it lazily and why (not), with its TOC's counts and prefetch range. No vscode.
import { formatBytes } from '../../core/format.js';
import type { LayerLazyReport, VerifyResult } from '../../worker/protocol.js';

/** Every problem a verification found, image-wide then per layer, one line each. */
export function verifyProblems(result: VerifyResult): string[] {
  // A worker speaking protocol 1.0 sends no `layers`.
  const layers = result.layers ?? [];
  return [...result.problems.map((p) => p.message), ...layers.flatMap((l) => l.lazy.problems.map((p) => `${l.label}: ${p}`))];
}

export function renderLazyReport(reference: string, result: VerifyResult): string {
  const layers = result.layers ?? [];
  const lazy = layers.filter((l) => l.lazy.lazy).length;
  const verdict = !result.ok ? '**Not ready**: problems below would make a lazy pull fail or fall back.'
    : lazy === layers.length && lazy > 0 ? `**Ready**: all ${lazy} layers can be pulled lazily.`
      : lazy === 0 ? '**Not lazy**: no layer can be pulled lazily, so the whole image is pulled before the container starts.'
        : `**Partly lazy**: ${lazy} of ${layers.length} layers can be pulled lazily; the others are pulled whole.`;
  const lines = [
    `# Lazy pull readiness: \`${reference.replace(/`/g, "'")}\``,
    '',
    `Image \`${result.digest}\`. Checked as stargz-snapshotter checks a layer at mount and on read: footer, TOC, TOC digest against the layer annotation, layout, and every chunk against its digest.`,
    '',
    verdict,
    '',
    `Read back ${result.blobs} blobs (${formatBytes(result.bytes)}), each against its digest and size${result.problems.length ? `: ${result.problems.length} problem(s)` : ': all match'}.`,
    ...result.problems.map((p) => `- \`${p.digest}\`: ${escape(p.message)}`),
    '',
    '| layer | size | lazy | files | chunks | prefetch |',
    '|---|---:|---|---:|---:|---|',
    ...layers.map((l) => `| ${l.label} | ${formatBytes(l.size)} | ${lazyWord(l)} | ${l.lazy.layout?.files ?? ''} | ${l.lazy.layout?.chunks ?? ''} | ${prefetch(l)} |`),
    ...layers.flatMap(layerSection),
  ];
  return `${lines.join('\n')}\n`;
}

function lazyWord(l: LayerLazyReport): string {
  if (l.lazy.lazy) return l.lazy.format === 'legacy-stargz' ? 'yes (legacy stargz)' : 'yes (eStargz)';
  return l.lazy.problems.length ? '**no: broken**' : 'no: pulled whole';
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
  const why = v.lazy ? 'lazy: the snapshotter mounts it without pulling it and fetches files on first read'
    : v.problems.length ? 'NOT lazy: the problems below make the mount or later reads fail'
      : 'not lazy: not eStargz, so it is pulled whole before the container starts';
  return [
    '',
    `## ${l.label}: ${v.lazy ? 'lazy' : 'not lazy'}`,
    '',
    `\`${l.digest}\`, ${formatBytes(l.size)}: ${why}.`,
    '',
    ...(v.tocDigest ? [`- TOC digest: \`${v.tocDigest}\``] : []),
    ...(layout ? [
      `- ${count(layout.files, 'file')}, ${count(layout.dirs, 'directory', 'directories')}, ${count(layout.links, 'link')}; ${formatBytes(layout.bytes)} of file data in ${count(layout.chunks, 'chunk')}, ${v.chunksVerified} verified against their digests`,
      `- Prefetch: ${prefetch(l)}`,
    ] : []),
    ...v.problems.map((p) => `- Problem: ${escape(p)}`),
    ...v.notes.map((n) => `- Note: ${escape(n)}`),
  ];
}

function count(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Text from image content is shown as text, never as Markdown or HTML. */
function escape(text: string): string {
  return text.replace(/[\\`*_{}[\]<>|#]/g, '\\$&');
}
