import { readFile, stat } from 'node:fs/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_PLAN_BYTES, parsePlan, parseShard, planBatch, runBatch, shardFromEnv, type BatchEvent, type BatchItemResult, type Shard } from '../../core/batch/index.js';
import { LazyImageError } from '../../core/errors.js';
import { withStores } from '../context.js';
import { formatBytes, terminalLines } from '../format.js';
import { addKubernetesOptions, checkKubernetesOptions, emitKubernetes, type EmitK8sOptions } from './batchKubernetes.js';

interface BatchCommandOptions extends EmitK8sOptions {
  shard?: Shard;
  cache?: string;
  dryRun?: boolean;
}

export function registerBatch(program: Command): void {
  const batch = program
    .command('batch')
    .description('convert and index a list of images as one batch: each distinct layer once, reruns skip what is done')
    .argument('<plan>', 'the plan: a YAML or JSON file (see docs/BATCH.md)')
    .option('--shard <I/N>', 'do shard I (from 0) of N; default: JOB_COMPLETION_INDEX of LAZYIMG_SHARDS when set, else all', parseShardOption)
    .option('--cache <ref>', 'the layer cache: a registry repository or oci:<folder> (overrides the plan\'s)')
    .option('--dry-run', 'print the shard\'s items (type "planned") without doing them');
  addKubernetesOptions(batch)
    .action(async (file: string, options: BatchCommandOptions, command: Command) => {
      checkKubernetesOptions(command, options);
      const text = await readPlan(file);
      const plan = parsePlan(text, file); // checked here, not in every pod
      if (options.emitK8s) return emitKubernetes(text, options, program.version() ?? '0.0.0');
      const shard = options.shard ?? shardFromEnv(process.env);
      const line = (e: unknown): void => void process.stdout.write(`${JSON.stringify(e)}\n`);
      await withStores(command, async (stores, signal) => {
        const run = { signal, ...(shard ? { shard } : {}), ...(options.cache !== undefined ? { cache: options.cache } : {}) };
        if (options.dryRun) {
          for (const planned of await planBatch(plan, stores, run)) line(planned);
          return;
        }
        const summary = await runBatch(plan, stores, {
          ...run,
          onEvent: (e: BatchEvent) => {
            line(e);
            if (e.type === 'item') process.stderr.write(terminalLines([describeItem(e), ...(e.warnings ?? []).map((w) => `  warning: ${w}`)]));
          },
        });
        process.stderr.write(terminalLines([
          `shard ${summary.shard}: ${summary.items} items (${summary.done} done, ${summary.skipped} skipped, ${summary.failed} failed), ${summary.distinctLayers} distinct layers, ${summary.layersBuilt} built, ${summary.layersReused} reused, in ${summary.seconds.toFixed(1)} s`,
        ]));
        if (summary.failed > 0) throw new LazyImageError('INTERNAL', `${summary.failed} of ${summary.items} items failed`);
      });
    });
}

function describeItem(e: BatchItemResult): string {
  const what = `${e.operation} ${e.source} -> ${e.destination}`;
  if (e.outcome === 'failed') return `failed   ${what}: ${e.error?.message ?? ''}`;
  if (e.outcome === 'skipped') return `skipped  ${what} (already done)`;
  return `done     ${what}: ${e.layers.built} built, ${e.layers.reused} reused${e.layers.skipped ? `, ${e.layers.skipped} without zTOC` : ''}, ${formatBytes(e.bytes.read)} read, in ${e.seconds.toFixed(1)} s`;
}

function parseShardOption(value: string): Shard {
  try {
    return parseShard(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

async function readPlan(file: string): Promise<string> {
  try {
    // Checked before reading: a plan is small, whatever file it is.
    if ((await stat(file)).size > MAX_PLAN_BYTES) throw new LazyImageError('INVALID_ARGUMENT', `${file}: the plan is over the ${MAX_PLAN_BYTES}-byte limit`);
    return await readFile(file, 'utf8');
  } catch (e) {
    if (e instanceof LazyImageError) throw e;
    throw new LazyImageError('IO', `Cannot read the plan ${file}: ${(e as Error).message}`);
  }
}
