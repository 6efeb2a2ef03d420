import type { Command } from 'commander';
import { readLayerToc, type LayerToc } from '../../core/jobs/index.js';
import { formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import type { TocEntry } from '../../core/estargz/index.js';
import { withStores } from '../context.js';
import { count, formatBytes, printJson, terminalLines } from '../format.js';
import { parsePlatformOption } from '../options.js';

interface TocOptions {
  layer: string;
  platform?: Platform;
  json?: boolean;
}

export function registerToc(program: Command): void {
  program
    .command('toc')
    .description('show the eStargz table of contents of one layer (read with two Range requests)')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .requiredOption('--layer <n|digest>', 'the layer: its number (1 is the base) or its digest')
    .option('--platform <os/arch[/variant]>', 'the platform to use from a multi-platform image', parsePlatformOption)
    .option('--json', 'print the TOC entries and the summary as JSON')
    .action(async (input: string, options: TocOptions, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const result = await readLayerToc(await stores.open(ref), ref.digest ?? ref.tag, options.layer, {
          signal,
          platform: options.platform,
        });
        if (options.json) printJson(tocJson(formatReference(ref), result));
        else process.stdout.write(renderToc(formatReference(ref), result));
      });
    });
}

function tocJson(reference: string, r: LayerToc): unknown {
  const l = r.layout;
  return {
    reference,
    layer: { index: r.index, digest: r.layer.digest, size: r.layer.size },
    tocDigest: r.tocDigest,
    annotation: r.annotation ?? null,
    tocOffset: r.tocOffset,
    legacyFooter: r.legacy,
    files: l.files, dirs: l.dirs, links: l.links, chunks: l.chunks, bytes: l.bytes,
    prefetch: l.prefetch, innerOffsets: l.innerOffsets, problems: l.problems,
    entries: r.toc.entries.map((e) => (e.xattrs ? { ...e, xattrs: Object.fromEntries([...e.xattrs].map(([k, v]) => [k, v.toString('base64')])) } : e)),
  };
}

function renderToc(reference: string, r: LayerToc): string {
  const l = r.layout;
  const verdict = r.annotation === undefined ? 'no toc.digest annotation on the layer' : r.annotation === r.tocDigest ? 'matches the layer annotation' : `DOES NOT MATCH the annotation ${r.annotation}`;
  const prefetch = l.prefetch.kind === 'landmark' ? `the first ${count(l.prefetch.files, 'file')}, ${formatBytes(l.prefetch.bytes)} compressed (.prefetch.landmark)`
    : l.prefetch.kind === 'none' ? 'nothing (.no.prefetch.landmark)' : 'the snapshotter\'s default size (no landmark)';
  const lines = [
    `${reference} layer ${r.index}/${r.count} ${r.layer.digest} (${formatBytes(r.layer.size)})`,
    `TOC ${r.tocDigest}: ${verdict}${r.legacy ? ' (legacy stargz footer)' : ''}`,
    `${l.files} files, ${l.dirs} directories, ${l.links} links, ${l.chunks} chunks; ${formatBytes(l.bytes)} of file data; TOC at byte ${r.tocOffset}`,
    `Prefetch: ${prefetch}`,
    ...l.problems.map((p) => `Problem: ${p}`),
    '',
  ];
  const chunkCounts = new Map<TocEntry, number>();
  let owner: TocEntry | undefined;
  for (const e of r.toc.entries) {
    if (e.type !== 'chunk') owner = e;
    else if (owner) chunkCounts.set(owner, (chunkCounts.get(owner) ?? 1) + 1);
  }
  for (const e of r.toc.entries) {
    if (e.type === 'chunk') continue;
    const mode = ((e.mode ?? 0) & 0o7777).toString(8).padStart(4, '0');
    const size = e.type === 'reg' ? formatBytes(e.size ?? 0) : '';
    const chunks = chunkCounts.get(e) ? `${chunkCounts.get(e)} chunks` : '';
    const target = e.linkName ? ` -> ${e.linkName}` : '';
    lines.push(`${e.type.padEnd(8)} ${mode} ${`${e.uid ?? 0}:${e.gid ?? 0}`.padEnd(11)} ${size.padStart(10)} ${chunks.padEnd(10)} ${e.name}${target}`);
  }
  return terminalLines(lines);
}
