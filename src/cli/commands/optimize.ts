import { writeFile } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { checkOptimizeFormat, destinationTarget, optimizeImage, OPTIMIZE_FORMATS, type EstargzOptimizeResult, type OptimizeFormat, type SociOptimizeResult } from '../../core/jobs/index.js';
import { formatPlatform, formatReference, parseReference, type ImageReference, type Platform } from '../../core/oci/index.js';
import { checkRecorder, DEFAULT_PERIOD_SECONDS, profileText, type ProfileFile } from '../../core/optimize/index.js';
import type { SociVersion } from '../../core/soci/index.js';
import { withStores } from '../context.js';
import { count, formatBytes, printJson, terminalLines } from '../format.js';
import { collect, parseNonNegativeInt, parsePlatformOption, parsePositiveInt } from '../options.js';

interface OptimizeCommandOptions {
  entrypoint?: string[];
  args?: string[];
  env: string[];
  cwd?: string;
  user?: string;
  period: number;
  recordOut?: string;
  network?: boolean;
  runtime?: string;
  format: OptimizeFormat;
  level?: number;
  chunkSize?: number;
  sociVersion?: SociVersion;
  spanSize?: number;
  minLayerSize?: number;
  platform?: Platform;
  json?: boolean;
}

export function registerOptimize(program: Command): void {
  program
    .command('optimize')
    .description('run the image\'s workload in a container (runc; rootless when not root), record the files it reads as it starts, and convert the image to eStargz with those files first, or index it for SOCI with those files to prefetch, so they are fetched at mount')
    .argument('<src>', 'source: registry/repo[:tag|@digest] or oci:<dir>[:tag|@digest]')
    .argument('<dst>', 'destination: registry/repo[:tag] or oci:<dir>[:tag]')
    .option('--entrypoint <json>', 'the entrypoint instead of the image\'s, as a JSON array (drops the image\'s command)', parseJsonArgs)
    .option('--args <json>', 'the command instead of the image\'s, as a JSON array', parseJsonArgs)
    .option('--env <key=value>', 'set an environment variable (repeatable)', collect, [])
    .option('--cwd <dir>', 'the working folder instead of the image\'s')
    .option('--user <user[:group]>', 'the user instead of the image\'s (names from the image\'s /etc/passwd and /etc/group)')
    .option('--period <seconds>', 'stop the workload after this many seconds if it has not exited', parsePeriod, DEFAULT_PERIOD_SECONDS)
    .option('--record-out <file>', 'write the startup profile (JSON; convert --prioritize-file reads it)')
    .option('--network', 'give the container the host\'s network (by default it has only a loopback)')
    .option('--runtime <runc>', 'the runc binary to use: a path, or a name on PATH (default runc)')
    .option('--format <estargz|soci>', 'estargz: convert, the recorded files first in their layers; soci: build SOCI indexes as index does, with prefetch artifacts for the recorded files', parseFormat, 'estargz')
    .option('--level <1-9>', 'estargz: gzip compression level (default 9)', parsePositiveInt)
    .option('--chunk-size <bytes>', 'estargz: split files larger than this into chunks (default 4194304)', parsePositiveInt)
    .option('--soci-version <v2|v1>', 'soci: v2, a new image index carrying the SOCI indexes (default); v1, indexes attached to the image as referrers', parseSociVersion)
    .option('--span-size <bytes>', 'soci: uncompressed bytes between checkpoints (default 4194304)', parsePositiveInt)
    .option('--min-layer-size <bytes>', 'soci: layers smaller than this get no zTOC, so nothing in them is prefetched (default 10485760)', parseNonNegativeInt)
    .option('--platform <os/arch[/variant]>', 'the platform to run from a multi-platform image (default: this machine\'s)', parsePlatformOption)
    .option('--json', 'print the result as JSON')
    .action(async (srcInput: string, dstInput: string, options: OptimizeCommandOptions, command: Command) => {
      const src = parseReference(srcInput);
      const dst = parseReference(dstInput);
      if (dst.digest !== undefined) throw new LazyImageError('INVALID_ARGUMENT', `Cannot optimize to ${dstInput}: the optimized image gets a new digest, so the destination needs a tag`);
      const formatOptions = { format: options.format, level: options.level, chunkSize: options.chunkSize, sociVersion: options.sociVersion, spanSize: options.spanSize, minLayerSize: options.minLayerSize };
      // Bad input, missing tools or privileges are said before anything is opened.
      checkOptimizeFormat(formatOptions);
      await checkRecorder({ periodSeconds: options.period, runtime: options.runtime }, formatReference(src));
      await withStores(command, async (stores, signal) => {
        const source = await stores.open(src);
        const destination = await stores.open(dst, { create: true });
        const started = Date.now();
        const result = await optimizeImage(source, src.digest ?? src.tag, destination, destinationTarget(src, dst).tag, {
          entrypoint: options.entrypoint, args: options.args, env: options.env, cwd: options.cwd, user: options.user,
          periodSeconds: options.period, network: options.network, runtime: options.runtime,
          ...formatOptions, platform: options.platform, signal,
          // The workload's own output, as it comes, apart from lazyimg's.
          onOutput: options.json ? undefined : (text) => process.stderr.write(text),
        });
        if (options.recordOut) await writeFile(options.recordOut, profileText(result.profile));
        // eStargz: a recorded file the conversion did not find is a fault. SOCI: one in no layer
        // with a zTOC (a layer under --min-layer-size) is only not prefetched, as soci warns.
        if (result.format === 'estargz' && result.missing.length) {
          throw new LazyImageError('INTERNAL', `${formatReference(dst)} was written, but these recorded files were in no layer: ${result.missing.join(', ')}`, { ref: formatReference(src) });
        }
        const missing = result.format === 'soci' ? [...new Set(result.indexes.flatMap((ix) => ix.prefetch?.missing ?? []))] : [];
        if (missing.length) process.stderr.write(terminalLines([`lazyimg: warning: not prefetched, in no layer with a zTOC: ${missing.join(', ')}`]));
        if (options.json) {
          printJson({ source: formatReference(src), destination: formatReference(dst), ...result });
          return;
        }
        const { run, files } = result.profile;
        const seconds = ((Date.now() - started) / 1000).toFixed(1);
        const ended = run.stopped ? `stopped after the ${run.periodSeconds} s period` : `exited with ${run.exitCode ?? 'a signal'} after ${run.seconds.toFixed(1)} s`;
        const bytes = files.reduce((n, f) => n + f.size, 0);
        process.stdout.write(`Ran ${JSON.stringify(run.args)}: ${ended}; it read ${count(files.length, 'file')} of the image (${formatBytes(bytes)})\n`);
        if (result.format === 'soci') printSoci(result, src, dst, seconds);
        else printEstargz(result, files, src, dst, seconds);
        if (options.recordOut) process.stdout.write(`Profile written to ${options.recordOut}\n`);
      });
    });
}

function printEstargz(result: EstargzOptimizeResult, files: ProfileFile[], src: ImageReference, dst: ImageReference, seconds: string): void {
  process.stdout.write(`Optimized ${formatReference(src)} to eStargz at ${formatReference(dst)} in ${seconds} s\n  ${result.descriptor.digest}\n`);
  for (const [i, l] of result.layers.entries()) {
    const first = files.filter((f) => f.digest === l.source).length;
    process.stdout.write(`  layer ${i + 1}: ${l.source.slice(7, 19)} -> ${l.digest.slice(7, 19)} ${formatBytes(l.size)}, ${first ? `${count(first, 'file')} first, prefetched` : 'no prefetch'}\n`);
  }
}

function printSoci(result: SociOptimizeResult, src: ImageReference, dst: ImageReference, seconds: string): void {
  const how = result.version === 'v1' ? 'v1 indexes attached as referrers of' : 'a SOCI-enabled image (v2) at';
  process.stdout.write(`Optimized ${formatReference(src)} for SOCI in ${seconds} s: ${how} ${formatReference(dst)}\n  ${result.image.digest}\n`);
  for (const ix of result.indexes) {
    process.stdout.write(terminalLines([`  ${formatPlatform(ix.platform)}: SOCI index ${ix.index.digest}`]));
    for (const [i, l] of ix.layers.entries()) {
      const artifact = ix.prefetch?.artifacts.find((a) => a.layer === l.digest);
      const found = ix.prefetch?.files.filter((f) => f.layer === l.digest).length ?? 0;
      const spans = artifact?.spans.reduce((n, s) => n + s.endSpan - s.startSpan + 1, 0) ?? 0;
      const what = !l.ztoc ? `no zTOC (${l.skipped}), fetched whole` : artifact ? `${count(found, 'file')} to prefetch in ${count(spans, 'span')}, artifact ${artifact.digest.slice(7, 19)}` : 'no prefetch';
      process.stdout.write(`  layer ${i + 1}: ${l.digest.slice(7, 19)} ${formatBytes(l.size)}, ${what}\n`);
    }
  }
}

function parseFormat(value: string): OptimizeFormat {
  if (!(OPTIMIZE_FORMATS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected ${OPTIMIZE_FORMATS.join(' or ')}`);
  return value as OptimizeFormat;
}

function parseSociVersion(value: string): SociVersion {
  if (value !== 'v2' && value !== 'v1') throw new InvalidArgumentError('expected v2 or v1');
  return value;
}

function parseJsonArgs(value: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON array of strings, such as \'["python3","-c","print(1)"]\'');
  }
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new InvalidArgumentError('expected a JSON array of strings');
  return parsed as string[];
}

function parsePeriod(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}
