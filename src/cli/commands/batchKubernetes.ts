// `lazyimg batch <plan> --emit-k8s`: the plan as a Kubernetes Indexed Job (docs/kubernetes.md),
// printed or written to a file, instead of run here.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { kubernetesJob } from '../../core/batch/index.js';
import { LazyImageError } from '../../core/errors.js';
import { parseNonNegativeInt, parsePositiveInt } from '../options.js';

export interface EmitK8sOptions {
  emitK8s?: boolean;
  image?: string;
  completions?: number;
  parallelism?: number;
  backoffLimitPerIndex?: number;
  name?: string;
  namespace?: string;
  registrySecret?: string;
  hostNetwork?: boolean;
  output?: string;
}

const DEFAULTS = { completions: 1, backoffLimitPerIndex: 2, name: 'lazyimg-batch' } as const;
/** The flags that only mean something with --emit-k8s (the commander attribute names). */
const JOB_FLAGS = ['image', 'completions', 'parallelism', 'backoffLimitPerIndex', 'name', 'namespace', 'registrySecret', 'hostNetwork', 'output'] as const;

export function addKubernetesOptions(command: Command): Command {
  return command
    .option('--emit-k8s', 'print a Kubernetes ConfigMap (the plan) and Indexed Job (one pod per shard) that run this batch, instead of running it')
    .option('--image <ref>', 'with --emit-k8s: the lazyimg image the pods run (npm run image builds it) (default: lazyimg:<this version>)')
    .option('--completions <n>', `with --emit-k8s: how many shards (default ${DEFAULTS.completions})`, parsePositiveInt)
    .option('--parallelism <n>', 'with --emit-k8s: how many shards run at once (default: all)', parsePositiveInt)
    .option('--backoff-limit-per-index <n>', `with --emit-k8s: retries of a failed shard (default ${DEFAULTS.backoffLimitPerIndex})`, parseNonNegativeInt)
    .option('--name <name>', `with --emit-k8s: the Job's name; the ConfigMap is <name>-plan (default ${DEFAULTS.name})`)
    .option('--namespace <ns>', 'with --emit-k8s: the namespace of both')
    .option('--registry-secret <name>', 'with --emit-k8s: a Secret holding a docker config.json (key .dockerconfigjson), for registry credentials')
    .option('--host-network', "with --emit-k8s: run the pods on the node's network, for registries only the node reaches (127.0.0.1)")
    .option('--output <file>', 'with --emit-k8s: write the manifests to this file instead of stdout');
}

/** A usage error when a Job flag comes without --emit-k8s, or --emit-k8s with a flag of a run. */
export function checkKubernetesOptions(command: Command, options: EmitK8sOptions & { shard?: unknown; dryRun?: boolean }): void {
  if (options.emitK8s) {
    if (options.shard !== undefined || options.dryRun) command.error('error: --emit-k8s writes a Job for all shards: it takes neither --shard nor --dry-run', { exitCode: 2 });
    return;
  }
  const stray = JOB_FLAGS.filter((k) => options[k] !== undefined);
  if (stray.length > 0) command.error(`error: ${stray.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')} only go with --emit-k8s`, { exitCode: 2 });
}

/** Writes the manifests for a plan already parsed (so a bad plan fails here, not in every pod). */
export async function emitKubernetes(planText: string, options: EmitK8sOptions & { cache?: string }, version: string): Promise<void> {
  const completions = options.completions ?? DEFAULTS.completions;
  const text = kubernetesJob({
    planText,
    image: options.image ?? `lazyimg:${version}`,
    completions,
    parallelism: options.parallelism ?? completions,
    backoffLimitPerIndex: options.backoffLimitPerIndex ?? DEFAULTS.backoffLimitPerIndex,
    name: options.name ?? DEFAULTS.name,
    ...(options.namespace !== undefined ? { namespace: options.namespace } : {}),
    ...(options.registrySecret !== undefined ? { registrySecret: options.registrySecret } : {}),
    ...(options.hostNetwork ? { hostNetwork: true } : {}),
    ...(options.cache !== undefined ? { cache: options.cache } : {}),
  });
  if (options.output === undefined) {
    process.stdout.write(text);
    return;
  }
  try {
    await writeFile(options.output, text);
  } catch (e) {
    throw new LazyImageError('IO', `Cannot write ${options.output}: ${(e as Error).message}`);
  }
  process.stderr.write(`wrote ${options.output}: kubectl apply -f ${options.output}\n`);
}
