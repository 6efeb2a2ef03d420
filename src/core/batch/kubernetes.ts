// A batch as a Kubernetes Indexed Job: the plan in a ConfigMap, one pod per shard, retries and
// placement left to the Job controller. A pure function from options to manifest text, shared by
// the CLI (`lazyimg batch --emit-k8s`) and the extension (Export as Kubernetes Job...).
import { stringify } from 'yaml';
import { LazyImageError } from '../errors.js';

export interface KubernetesResources {
  requests?: { cpu?: string; memory?: string };
  limits?: { cpu?: string; memory?: string };
}

export interface KubernetesJobOptions {
  /** The plan file's text, stored as is in the ConfigMap. */
  planText: string;
  /** The lazyimg image (its entrypoint runs the CLI), e.g. `registry.example/lazyimg:0.1.0`. */
  image: string;
  /** How many shards, one index each (LAZYIMG_SHARDS). */
  completions: number;
  /** How many shards run at once. */
  parallelism: number;
  /** Retries of one failed index before that index counts as failed. */
  backoffLimitPerIndex: number;
  /** The Job's name; the ConfigMap is `<name>-plan`. A DNS-1123 label. */
  name: string;
  namespace?: string;
  /** A Secret holding a docker config.json, for registry credentials. */
  registrySecret?: string;
  /** The key of that Secret holding the config.json: `.dockerconfigjson` (`kubectl create secret docker-registry`) by default. */
  registrySecretKey?: string;
  /** Pods share the node's network: for registries only the node reaches (127.0.0.1). */
  hostNetwork?: boolean;
  /** The layer cache (`--cache`): a registry repository, or `oci:` a folder the pods share. */
  cache?: string;
  imagePullPolicy?: 'IfNotPresent' | 'Always' | 'Never';
  resources?: KubernetesResources;
  /** Failed indexes after which the whole Job stops; unset: every index runs its course. */
  maxFailedIndexes?: number;
  /** Delete the finished Job (and its pods, with their logs) after this many seconds. */
  ttlSecondsAfterFinished?: number;
  /** Stop the whole Job after this many seconds. */
  activeDeadlineSeconds?: number;
  /** A size limit for the pods' /tmp, where conversions spool layers (e.g. `20Gi`). */
  tmpSizeLimit?: string;
}

/** The uid and gid the pods run as: not root, and no user of a usual base image. */
export const BATCH_USER = 65532;
export const PLAN_PATH = '/etc/lazyimg/plan.yaml';
export const DOCKER_CONFIG_DIR = '/etc/lazyimg/docker';
const CONTAINER = 'lazyimg';
/** The CLI's exit code for a usage error: a retry cannot fix it, so the Job fails at once. */
const USAGE_EXIT_CODE = 2;
/** A ConfigMap holds at most 1 MiB; the plan's own bound is the same, minus room for the object. */
const MAX_PLAN_BYTES = 1024 * 1024 - 16 * 1024;
/** Kubernetes caps an Indexed Job that sets backoffLimitPerIndex at this many completions. */
const MAX_COMPLETIONS = 100_000;

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

function invalid(message: string): never {
  throw new LazyImageError('INVALID_ARGUMENT', message);
}

function checkName(what: string, value: string, max: number, pattern: RegExp, kind: string): void {
  if (value.length === 0 || value.length > max || !pattern.test(value)) {
    invalid(`${what} '${value}' is not a valid Kubernetes name: a ${kind} (lower-case letters, digits and '-'${kind === 'DNS-1123 subdomain' ? ", dot-separated" : ''}, starting and ending with a letter or digit, at most ${max} characters)`);
  }
}

function checkInteger(what: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) invalid(`${what} must be a whole number from ${min} to ${max}, not ${value}`);
}

function checkQuantity(what: string, value: string | undefined): void {
  if (value !== undefined && !QUANTITY.test(value)) invalid(`${what} '${value}' is not a Kubernetes quantity (e.g. 500m, 2, 512Mi, 4Gi)`);
}

function checkArgument(what: string, value: string): void {
  if (value.length === 0 || value.length > 4096 || /[\s\0]/.test(value)) invalid(`${what} must be one word without spaces, not '${value}'`);
}

function validate(o: KubernetesJobOptions): void {
  // The Job's name is also a label value on every pod (63 characters at most).
  checkName('The Job name', o.name, 63, DNS_LABEL, 'DNS-1123 label');
  if (o.namespace !== undefined) checkName('The namespace', o.namespace, 63, DNS_LABEL, 'DNS-1123 label');
  if (o.registrySecret !== undefined) checkName('The registry Secret', o.registrySecret, 253, DNS_SUBDOMAIN, 'DNS-1123 subdomain');
  if (o.registrySecretKey !== undefined && (!SECRET_KEY.test(o.registrySecretKey) || o.registrySecretKey.length > 253)) {
    invalid(`The registry Secret key '${o.registrySecretKey}' is not a valid key (letters, digits, '-', '_', '.')`);
  }
  checkArgument('The image', o.image);
  if (o.cache !== undefined) checkArgument('The cache', o.cache);
  checkInteger('completions', o.completions, 1, MAX_COMPLETIONS);
  checkInteger('parallelism', o.parallelism, 1, o.completions);
  checkInteger('backoffLimitPerIndex', o.backoffLimitPerIndex, 0, 1_000);
  if (o.maxFailedIndexes !== undefined) checkInteger('maxFailedIndexes', o.maxFailedIndexes, 0, o.completions);
  if (o.ttlSecondsAfterFinished !== undefined) checkInteger('ttlSecondsAfterFinished', o.ttlSecondsAfterFinished, 0, 2 ** 31 - 1);
  if (o.activeDeadlineSeconds !== undefined) checkInteger('activeDeadlineSeconds', o.activeDeadlineSeconds, 1, 2 ** 31 - 1);
  for (const side of ['requests', 'limits'] as const) {
    checkQuantity(`resources.${side}.cpu`, o.resources?.[side]?.cpu);
    checkQuantity(`resources.${side}.memory`, o.resources?.[side]?.memory);
  }
  checkQuantity('tmpSizeLimit', o.tmpSizeLimit);
  const planBytes = Buffer.byteLength(o.planText, 'utf8');
  if (planBytes === 0) invalid('The plan is empty');
  if (planBytes > MAX_PLAN_BYTES) invalid(`The plan is ${planBytes} bytes: a ConfigMap holds at most ${MAX_PLAN_BYTES}`);
}

/** Only the keys that are set, so the manifest says nothing the user did not ask for. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function resources(r: KubernetesResources | undefined): object | undefined {
  if (!r) return undefined;
  const side = (s: { cpu?: string; memory?: string } | undefined) => (s && (s.cpu || s.memory) ? defined({ cpu: s.cpu, memory: s.memory }) : undefined);
  const out = defined({ requests: side(r.requests), limits: side(r.limits) });
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The ConfigMap and the Indexed Job, as one multi-document YAML text for `kubectl apply -f`. */
export function kubernetesJob(options: KubernetesJobOptions): string {
  validate(options);
  const o = options;
  const labels = { 'app.kubernetes.io/name': 'lazyimg', 'app.kubernetes.io/component': 'batch', 'app.kubernetes.io/instance': o.name };
  const metadata = (name: string) => defined({ name, namespace: o.namespace, labels });
  const planMap = `${o.name}-plan`;

  const configMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: metadata(planMap), data: { 'plan.yaml': o.planText } };

  const env = [{ name: 'LAZYIMG_SHARDS', value: String(o.completions) }, { name: 'TMPDIR', value: '/tmp' }];
  const volumeMounts: object[] = [
    { name: 'plan', mountPath: PLAN_PATH, subPath: 'plan.yaml', readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  const volumes: object[] = [
    { name: 'plan', configMap: { name: planMap } },
    { name: 'tmp', emptyDir: defined({ sizeLimit: o.tmpSizeLimit }) },
  ];
  if (o.registrySecret !== undefined) {
    env.push({ name: 'DOCKER_CONFIG', value: DOCKER_CONFIG_DIR });
    volumeMounts.push({ name: 'registry-auth', mountPath: DOCKER_CONFIG_DIR, readOnly: true });
    // Readable by the pod's group only: fsGroup makes the files the pod's.
    volumes.push({ name: 'registry-auth', secret: { secretName: o.registrySecret, defaultMode: 0o440, items: [{ key: o.registrySecretKey ?? '.dockerconfigjson', path: 'config.json' }] } });
  }

  const container = defined({
    name: CONTAINER,
    image: o.image,
    imagePullPolicy: o.imagePullPolicy ?? 'IfNotPresent',
    // The image's entrypoint is the CLI; each pod finds its shard in JOB_COMPLETION_INDEX.
    args: ['batch', PLAN_PATH, ...(o.cache !== undefined ? ['--cache', o.cache] : [])],
    env,
    resources: resources(o.resources),
    volumeMounts,
    securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
  });

  const podSpec = defined({
    restartPolicy: 'Never',
    // The batch talks to registries, never to the Kubernetes API.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    hostNetwork: o.hostNetwork ? true : undefined,
    // Without it a host-network pod resolves names with the node's resolver, not the cluster's.
    dnsPolicy: o.hostNetwork ? 'ClusterFirstWithHostNet' : undefined,
    securityContext: { runAsNonRoot: true, runAsUser: BATCH_USER, runAsGroup: BATCH_USER, fsGroup: BATCH_USER, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [container],
    volumes,
  });

  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: metadata(o.name),
    spec: defined({
      completionMode: 'Indexed',
      completions: o.completions,
      parallelism: o.parallelism,
      backoffLimitPerIndex: o.backoffLimitPerIndex,
      maxFailedIndexes: o.maxFailedIndexes,
      ttlSecondsAfterFinished: o.ttlSecondsAfterFinished,
      activeDeadlineSeconds: o.activeDeadlineSeconds,
      podFailurePolicy: {
        rules: [
          // A pod evicted or preempted did nothing wrong: run it again without spending a retry.
          { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] },
          // A bad plan or flag fails every retry the same way.
          { action: 'FailJob', onExitCodes: { containerName: CONTAINER, operator: 'In', values: [USAGE_EXIT_CODE] } },
        ],
      },
      template: { metadata: { labels }, spec: podSpec },
    }),
  };

  const header = `# lazyimg batch as a Kubernetes Indexed Job: ${o.completions} shard(s), ${o.parallelism} at a time.\n# Apply with: kubectl apply -f <this file>\n`;
  return header + [configMap, job].map((doc) => stringify(doc, { lineWidth: 0, aliasDuplicateObjects: false })).join('---\n');
}
