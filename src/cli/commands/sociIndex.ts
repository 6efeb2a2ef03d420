import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { buildSociIndexes, sociDestination } from '../../core/jobs/index.js';
import { formatPlatform, formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import { parsePrefetchFilesJson } from '../../core/soci/index.js';
import { withStores } from '../context.js';
import { formatBytes, printJson, terminalLines } from '../format.js';
import { parseNonNegativeInt, parsePlatformOption, parsePositiveInt } from '../options.js';

interface IndexCommandOptions {
  sociVersion: string;
  spanSize?: number;
  minLayerSize?: number;
  allPlatforms?: boolean;
  platform?: Platform;
  prefetchFile: string[];
  prefetchFilesJson?: string;
  json?: boolean;
}

export function registerIndex(program: Command): void {
  program
    .command('index')
    .description('build SOCI indexes so soci-snapshotter can pull an image lazily, without converting it')
    .argument('<src>', 'source: registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('[dst]', 'where the result goes: registry/repo[:tag] or oci:<dir>[:tag] (default: v2, <src tag>-soci beside the source; v1, the source itself)')
    .option('--soci-version <v2|v1>', 'v2: a new image index carrying the SOCI indexes (like soci convert); v1: indexes attached to the image as referrers (like soci create and push; soci-snapshotter reads them only with pull_modes.soci_v1 enabled)', 'v2')
    .option('--span-size <bytes>', 'uncompressed bytes between checkpoints (default 4194304)', parsePositiveInt)
    .option('--min-layer-size <bytes>', 'layers smaller than this get no zTOC (default 10485760)', parseNonNegativeInt)
    .option('--all-platforms', 'index every platform of a multi-platform image')
    .option('--platform <os/arch[/variant]>', 'the platform to index from a multi-platform image (default: this machine\'s)', parsePlatformOption)
    .option('--prefetch-file <paths>', 'files soci-snapshotter fetches at mount when its [prefetch] is enabled (repeatable, or comma-separated, as soci convert takes them)', collectCommaList, [])
    .option('--prefetch-files-json <file>', 'more files to prefetch: a JSON array of paths')
    .option('--json', 'print the result as JSON')
    .action(async (srcInput: string, dstInput: string | undefined, options: IndexCommandOptions, command: Command) => {
      const version = options.sociVersion;
      if (version !== 'v2' && version !== 'v1') throw new LazyImageError('INVALID_ARGUMENT', `--soci-version ${version} is not supported: use v2 or v1`);
      const src = parseReference(srcInput);
      const dst = sociDestination(src, dstInput !== undefined ? parseReference(dstInput) : undefined, version);
      const prefetchFiles = [...options.prefetchFile, ...(options.prefetchFilesJson ? await readPrefetchJson(options.prefetchFilesJson) : [])];
      await withStores(command, async (stores, signal) => {
        const started = Date.now();
        const result = await buildSociIndexes(await stores.open(src), src.digest ?? src.tag, await stores.open(dst, { create: true }), dst.tag ?? src.tag, {
          signal,
          version,
          spanSize: options.spanSize,
          minLayerSize: options.minLayerSize,
          allPlatforms: options.allPlatforms,
          platform: options.platform,
          prefetchFiles,
        });
        // soci convert only warns about files it cannot find, and so do we.
        const missing = [...new Set(result.indexes.flatMap((ix) => ix.prefetch?.missing ?? []))];
        if (missing.length) process.stderr.write(terminalLines([`lazyimg: warning: not prefetched, in no layer with a zTOC: ${missing.join(', ')}`]));
        if (options.json) {
          printJson({ source: formatReference(src), destination: formatReference(dst), ...result });
          return;
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const how = version === 'v1' ? 'v1 indexes attached as referrers of' : 'a SOCI-enabled image (v2) at';
        process.stdout.write(`Indexed ${formatReference(src)} for SOCI in ${seconds} s: ${how} ${formatReference(dst)}\n  ${result.image.digest}\n`);
        for (const ix of result.indexes) {
          process.stdout.write(terminalLines([`  ${formatPlatform(ix.platform)}: SOCI index ${ix.index.digest}`]));
          for (const l of ix.layers) {
            const what = l.ztoc ? `zTOC ${l.ztoc.digest.slice(7, 19)} ${formatBytes(l.ztoc.size)}, ${l.ztoc.spans} spans, ${l.ztoc.files} entries, in ${l.seconds?.toFixed(2)} s` : `no zTOC: ${l.skipped}`;
            process.stdout.write(`    ${l.digest.slice(7, 19)} ${formatBytes(l.size).padStart(9)}  ${what}\n`);
          }
          for (const a of ix.prefetch?.artifacts ?? []) {
            const files = ix.prefetch!.files.filter((f) => f.layer === a.layer).length;
            const spans = a.spans.reduce((n, s) => n + s.endSpan - s.startSpan + 1, 0);
            process.stdout.write(`    prefetch for ${a.layer.slice(7, 19)}: ${a.digest.slice(7, 19)}, ${files} file(s) in ${spans} span(s)\n`);
          }
        }
      });
    });
}

/** `--prefetch-file a,b --prefetch-file c`: each value split at commas, as soci's flag parser does. */
function collectCommaList(value: string, previous: string[] = []): string[] {
  return [...previous, ...value.split(',')];
}

async function readPrefetchJson(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LazyImageError('IO', `Cannot read --prefetch-files-json ${file}: ${(e as Error).message}`);
  }
  return parsePrefetchFilesJson(text, `--prefetch-files-json ${file}`);
}
