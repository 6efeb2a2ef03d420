import { readFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { convertImage, destinationTarget } from '../../core/jobs/index.js';
import { parsePrioritizeFile, profilePaths, type PrioritizeList } from '../../core/optimize/index.js';
import { formatReference, parseReference, type Platform } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { formatBytes, printJson } from '../format.js';
import { collect, parsePlatformOption, parsePositiveInt } from '../options.js';

interface ConvertCommandOptions {
  format: string;
  level?: number;
  chunkSize?: number;
  prioritize: string[];
  prioritizeFile?: string;
  allPlatforms?: boolean;
  platform?: Platform;
  json?: boolean;
}

export function registerConvert(program: Command): void {
  program
    .command('convert')
    .description('convert an image so remote snapshotters can pull it lazily (eStargz)')
    .argument('<src>', 'source: registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('<dst>', 'destination: registry/repo[:tag] or oci:<dir>[:tag] (a layout, or a new or empty folder to make one in)')
    .requiredOption('--format <format>', 'the lazy format to convert to: estargz')
    .option('--level <1-9>', 'gzip compression level (default 9, like ctr-remote)', parseLevel)
    .option('--chunk-size <bytes>', 'split files larger than this into separately compressed chunks (default 4194304)', parsePositiveInt)
    .option('--prioritize <path>', 'a file to put first and prefetch (repeatable; applies to every layer)', collect, [])
    .option('--prioritize-file <file>', 'read more paths to prioritize: one per line (# comments), a startup profile from lazyimg optimize --record-out (each file first in its own layer), or ctr-remote\'s record')
    .option('--all-platforms', 'convert every platform of a multi-platform image')
    .option('--platform <os/arch[/variant]>', 'the platform to convert from a multi-platform image (default: this machine\'s)', parsePlatformOption)
    .option('--json', 'print the result as JSON')
    .action(async (srcInput: string, dstInput: string, options: ConvertCommandOptions, command: Command) => {
      if (options.format !== 'estargz') throw new LazyImageError('INVALID_ARGUMENT', `--format ${options.format} is not supported: use estargz (SOCI indexes are built with lazyimg index)`);
      const src = parseReference(srcInput);
      const dst = parseReference(dstInput);
      if (dst.digest !== undefined) throw new LazyImageError('INVALID_ARGUMENT', `Cannot convert to ${dstInput}: converting makes new digests, so the destination needs a tag, not a digest`);
      const list = options.prioritizeFile ? await readPrioritizeFile(options.prioritizeFile) : undefined;
      const prioritized = [...options.prioritize, ...(list?.kind === 'paths' ? list.paths : [])];
      const profile = list?.kind === 'profile' ? list.profile : undefined;
      await withStores(command, async (stores, signal) => {
        const source = await stores.open(src);
        const destination = await stores.open(dst, { create: true });
        const { tag } = destinationTarget(src, dst);
        const started = Date.now();
        const result = await convertImage(source, src.digest ?? src.tag, destination, tag, {
          signal,
          prioritized,
          // A profile's files go to their own layers; paths given with --prioritize go to every layer.
          prioritizedFor: profile ? (layer) => [...options.prioritize, ...profilePaths(profile, layer)] : undefined,
          level: options.level,
          chunkSize: options.chunkSize,
          allPlatforms: options.allPlatforms,
          platform: options.platform,
        });
        if (result.missing.length) {
          throw new LazyImageError('NOT_FOUND', `${formatReference(dst)} was written, but these prioritized paths are in no layer: ${result.missing.join(', ')}`, { ref: formatReference(src) });
        }
        if (options.json) {
          printJson({ source: formatReference(src), destination: formatReference(dst), ...result });
          return;
        }
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        process.stdout.write(`Converted ${formatReference(src)} to eStargz at ${formatReference(dst)} in ${seconds} s\n  ${result.descriptor.digest}\n`);
        for (const l of result.layers) {
          process.stdout.write(`  ${l.source.slice(7, 19)} ${formatBytes(l.sourceSize)} -> ${l.digest.slice(7, 19)} ${formatBytes(l.size)} in ${l.seconds?.toFixed(2)} s  TOC ${l.tocDigest}\n`);
        }
      });
    });
}

function parseLevel(value: string): number {
  const n = Number(value);
  if (!/^[1-9]$/.test(value)) throw new InvalidArgumentError('expected a gzip level from 1 to 9');
  return n;
}

/** The --prioritize-file: a list of paths, a startup profile or ctr-remote's record. */
async function readPrioritizeFile(file: string): Promise<PrioritizeList> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new LazyImageError('IO', `Cannot read --prioritize-file ${file}: ${(e as Error).message}`);
  }
  return parsePrioritizeFile(text, `--prioritize-file ${file}`);
}
