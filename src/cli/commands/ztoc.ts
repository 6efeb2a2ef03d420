import type { Command } from 'commander';
import { readLayerZtoc, type LayerZtoc } from '../../core/jobs/index.js';
import { formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import { goEscape, ztocInfo, type ZtocInfo } from '../../core/soci/index.js';
import { withStores } from '../context.js';
import { formatBytes, terminalLines } from '../format.js';
import { parsePlatformOption } from '../options.js';

interface ZtocOptions {
  layer: string;
  platform?: Platform;
  json?: boolean;
}

export function registerZtoc(program: Command): void {
  program
    .command('ztoc')
    .description('show the zTOC of one layer from the image\'s SOCI index: spans and files')
    .argument('<ref>', 'the image (or its SOCI-enabled tag): registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .requiredOption('--layer <n|digest>', 'the layer: its number (1 is the base) or its digest')
    .option('--platform <os/arch[/variant]>', 'the platform to use from a multi-platform image', parsePlatformOption)
    .option('--json', 'print what `soci ztoc info` prints, field for field')
    .action(async (input: string, options: ZtocOptions, command: Command) => {
      const ref = parseReference(input);
      await withStores(command, async (stores, signal) => {
        const result = await readLayerZtoc(await stores.open(ref), ref.digest ?? ref.tag, options.layer, {
          signal,
          platform: options.platform,
        });
        const info = ztocInfo(result.ztoc, result.spans, result.descriptor.size);
        // Go's json.MarshalIndent: two spaces, and <, >, & escaped.
        if (options.json) process.stdout.write(`${goEscape(JSON.stringify(info, null, 2))}\n`);
        else process.stdout.write(render(formatReference(ref), result, info));
      });
    });
}

function render(reference: string, r: LayerZtoc, info: ZtocInfo): string {
  const lines = [
    `${reference} layer ${r.index}/${r.count} ${r.layer.digest} (${formatBytes(r.layer.size)})`,
    `zTOC ${r.descriptor.digest} (${formatBytes(r.descriptor.size)}) in SOCI ${r.sociIndex.version} index ${r.sociIndex.descriptor.digest}${r.sociIndex.version === 'v1' ? ' (read by soci-snapshotter only with [pull_modes.soci_v1] enabled)' : ''}`,
    `${r.ztoc.version} by ${r.ztoc.buildToolIdentifier}; ${r.ztoc.compressionAlgorithm}; ${info.num_spans} spans of ${formatBytes(info.span_size)}; ${info.num_files} entries, ${info.num_multi_span_files} over several spans`,
    ...r.sociIndex.problems.map((p) => `Problem: ${p}`),
    '',
  ];
  for (const f of info.files ?? []) {
    const spans = f.start_span === f.end_span ? `span ${f.start_span}` : `spans ${f.start_span}-${f.end_span}`;
    lines.push(`${f.type.padEnd(8)} ${(f.type === 'reg' ? formatBytes(f.size) : '').padStart(10)}  ${spans.padEnd(14)} ${f.filename}`);
  }
  return terminalLines(lines);
}
