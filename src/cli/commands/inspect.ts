import type { Command } from 'commander';
import { inspectImage, type InspectResult } from '../../core/jobs/index.js';
import { formatPlatform, formatReference, parseReference } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { count, formatBytes, printJson, terminalLines } from '../format.js';

interface InspectOptions {
  json?: boolean;
  raw?: boolean;
}

export function registerInspect(program: Command): void {
  program
    .command('inspect')
    .description('show an image: its index, the manifest of each platform, config and layers')
    .argument('<ref>', 'registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .option('--json', 'print JSON: {reference, digest, mediaType, manifests: [...]}')
    .option('--raw', 'print the top manifest or index exactly as stored')
    .action(async (input: string, options: InspectOptions, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const store = await stores.open(ref);
        if (options.raw) {
          const doc = await store.getManifest(await store.resolve(ref.digest ?? ref.tag, { signal }), { signal });
          process.stdout.write(doc.bytes);
          return;
        }
        const result = await inspectImage(store, ref.digest ?? ref.tag, formatReference(ref), { signal });
        if (options.json) printJson(result);
        else process.stdout.write(renderInspect(result));
      });
    });
}

function renderInspect(r: InspectResult): string {
  const lines = [`Reference:  ${r.reference}`, `Digest:     ${r.digest}`, `Media type: ${r.mediaType}`];
  for (const m of r.manifests) {
    const total = m.layers.reduce((sum, l) => sum + l.size, 0);
    // A SOCI v2 index carries the platform of its image: say what it is.
    const what = m.artifactType && m.platform ? `${m.artifactType} for ${formatPlatform(m.platform)}` : m.platform ? formatPlatform(m.platform) : m.artifactType ?? 'unknown platform';
    lines.push('', `${what}  ${m.digest}`);
    lines.push(`  config   ${m.config.digest}  ${formatBytes(m.config.size)}`);
    m.layers.forEach((l, i) => {
      lines.push(`  layer ${String(i + 1).padEnd(2)} ${l.digest}  ${formatBytes(l.size).padStart(10)}  ${l.mediaType}`);
      for (const [k, v] of Object.entries(l.annotations)) lines.push(`             ${k}=${v}`);
      if (l.soci) lines.push(`             SOCI zTOC ${l.soci.ztoc}`);
      if (l.soci?.prefetch) lines.push(`             SOCI prefetch artifact ${l.soci.prefetch}`);
    });
    lines.push(`  ${count(m.layers.length, 'layer')}, ${formatBytes(total)} compressed`);
    for (const s of m.soci ?? []) lines.push(`  SOCI ${s.version} index ${s.index}: ${count(s.ztocs, 'zTOC')}${s.prefetch ? `, ${count(s.prefetch, 'prefetch artifact')}` : ''}`);
  }
  return terminalLines(lines);
}
