import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { kubernetesJob, type KubernetesJobOptions } from '../../src/core/batch/kubernetes.js';
import { LazyImageError } from '../../src/core/errors.js';

const PLAN = 'version: 1\nitems:\n  - source: 127.0.0.1:5000/app:1.0\n    operation: soci-v2\n';
const BASE: KubernetesJobOptions = { planText: PLAN, image: 'localhost/lazyimg:0.1.0', completions: 3, parallelism: 2, backoffLimitPerIndex: 1, name: 'fleet' };

/* eslint-disable @typescript-eslint/no-explicit-any -- walking parsed manifests */
function parse(text: string): any[] {
  const docs = parseAllDocuments(text);
  assert.ok(Array.isArray(docs));
  for (const d of docs) assert.deepEqual(d.errors, []);
  return docs.map((d) => d.toJS());
}

function job(options: Partial<KubernetesJobOptions> = {}): { configMap: any; job: any; pod: any; container: any } {
  const [configMap, j] = parse(kubernetesJob({ ...BASE, ...options }));
  return { configMap, job: j, pod: j.spec.template.spec, container: j.spec.template.spec.containers[0] };
}

function rejects(options: Partial<KubernetesJobOptions>, message: RegExp): void {
  assert.throws(() => kubernetesJob({ ...BASE, ...options }), (e: unknown) => e instanceof LazyImageError && e.code === 'INVALID_ARGUMENT' && message.test(e.message));
}

describe('kubernetesJob', () => {
  it('writes the plan into a ConfigMap, byte for byte', () => {
    const planText = 'version: 1\n# a comment, trailing spaces   \nitems:\n  - source: "oci:./a b:1"\n\n';
    const { configMap } = job({ planText });
    assert.equal(configMap.apiVersion, 'v1');
    assert.equal(configMap.kind, 'ConfigMap');
    assert.equal(configMap.metadata.name, 'fleet-plan');
    assert.deepEqual(Object.keys(configMap.data), ['plan.yaml']);
    assert.equal(configMap.data['plan.yaml'], planText);
  });

  it('makes an Indexed Job with the shard count, parallelism and per-index retries', () => {
    const { job: j, pod } = job();
    assert.equal(j.apiVersion, 'batch/v1');
    assert.equal(j.kind, 'Job');
    assert.equal(j.metadata.name, 'fleet');
    assert.equal(j.metadata.namespace, undefined);
    assert.equal(j.spec.completionMode, 'Indexed');
    assert.equal(j.spec.completions, 3);
    assert.equal(j.spec.parallelism, 2);
    assert.equal(j.spec.backoffLimitPerIndex, 1);
    assert.equal(j.spec.backoffLimit, undefined, 'with a per-index limit, the global one stays unlimited');
    assert.equal(pod.restartPolicy, 'Never');
    const exitRule = j.spec.podFailurePolicy.rules.find((r: any) => r.onExitCodes);
    assert.deepEqual(exitRule, { action: 'FailJob', onExitCodes: { containerName: 'lazyimg', operator: 'In', values: [2] } });
    assert.deepEqual(j.spec.podFailurePolicy.rules.find((r: any) => r.onPodConditions), { action: 'Ignore', onPodConditions: [{ type: 'DisruptionTarget' }] });
  });

  it('runs `batch` on the mounted plan with the shard count in the environment', () => {
    const { container, pod } = job();
    assert.equal(container.image, 'localhost/lazyimg:0.1.0');
    assert.equal(container.imagePullPolicy, 'IfNotPresent');
    assert.equal(container.command, undefined, "the image's entrypoint is the CLI");
    assert.deepEqual(container.args, ['batch', '/etc/lazyimg/plan.yaml']);
    assert.deepEqual(container.env.find((e: any) => e.name === 'LAZYIMG_SHARDS'), { name: 'LAZYIMG_SHARDS', value: '3' });
    assert.equal(container.env.find((e: any) => e.name === 'DOCKER_CONFIG'), undefined);
    const planMount = container.volumeMounts.find((m: any) => m.name === 'plan');
    assert.deepEqual(planMount, { name: 'plan', mountPath: '/etc/lazyimg/plan.yaml', subPath: 'plan.yaml', readOnly: true });
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'plan'), { name: 'plan', configMap: { name: 'fleet-plan' } });
  });

  it('passes the cache to every shard', () => {
    assert.deepEqual(job({ cache: '127.0.0.1:5000/lazyimg-cache' }).container.args, ['batch', '/etc/lazyimg/plan.yaml', '--cache', '127.0.0.1:5000/lazyimg-cache']);
  });

  it('runs as 65532 on a read-only root with a writable /tmp, no token, no privileges', () => {
    const { container, pod } = job();
    assert.deepEqual(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
    assert.deepEqual(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    assert.equal(pod.automountServiceAccountToken, false);
    assert.deepEqual(container.volumeMounts.find((m: any) => m.mountPath === '/tmp'), { name: 'tmp', mountPath: '/tmp' });
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'tmp'), { name: 'tmp', emptyDir: {} });
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.dnsPolicy, undefined);
  });

  it('mounts the registry Secret read-only as config.json and points DOCKER_CONFIG at it', () => {
    const { container, pod } = job({ registrySecret: 'regcred' });
    assert.deepEqual(container.env.find((e: any) => e.name === 'DOCKER_CONFIG'), { name: 'DOCKER_CONFIG', value: '/etc/lazyimg/docker' });
    assert.deepEqual(container.volumeMounts.find((m: any) => m.name === 'registry-auth'), { name: 'registry-auth', mountPath: '/etc/lazyimg/docker', readOnly: true });
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'registry-auth'), {
      name: 'registry-auth',
      secret: { secretName: 'regcred', defaultMode: 0o440, items: [{ key: '.dockerconfigjson', path: 'config.json' }] },
    });
    const generic = job({ registrySecret: 'regcred', registrySecretKey: 'config.json' }).pod.volumes.find((v: any) => v.name === 'registry-auth');
    assert.deepEqual(generic.secret.items, [{ key: 'config.json', path: 'config.json' }]);
  });

  it("uses the node's network when asked, with the cluster's DNS still first", () => {
    const { pod } = job({ hostNetwork: true });
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
  });

  it('puts the namespace, labels and the optional limits where Kubernetes reads them', () => {
    const { configMap, job: j, container, pod } = job({
      namespace: 'lazy', imagePullPolicy: 'Never', maxFailedIndexes: 1, ttlSecondsAfterFinished: 3600, activeDeadlineSeconds: 7200,
      resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '2Gi' } }, tmpSizeLimit: '20Gi',
    });
    assert.equal(configMap.metadata.namespace, 'lazy');
    assert.equal(j.metadata.namespace, 'lazy');
    assert.equal(j.spec.template.metadata.labels['app.kubernetes.io/instance'], 'fleet');
    assert.equal(container.imagePullPolicy, 'Never');
    assert.equal(j.spec.maxFailedIndexes, 1);
    assert.equal(j.spec.ttlSecondsAfterFinished, 3600);
    assert.equal(j.spec.activeDeadlineSeconds, 7200);
    assert.deepEqual(container.resources, { requests: { cpu: '500m', memory: '512Mi' }, limits: { memory: '2Gi' } });
    assert.deepEqual(pod.volumes.find((v: any) => v.name === 'tmp').emptyDir, { sizeLimit: '20Gi' });
  });

  it('is deterministic, and plain YAML (no anchors) with one ConfigMap and one Job', () => {
    const text = kubernetesJob(BASE);
    assert.equal(text, kubernetesJob({ ...BASE }));
    assert.doesNotMatch(text, /[&*]a\d/);
    assert.deepEqual(parse(text).map((d) => d.kind), ['ConfigMap', 'Job']);
  });

  it('refuses names Kubernetes would refuse, saying which and why', () => {
    rejects({ name: 'Fleet' }, /Job name 'Fleet' is not a valid Kubernetes name: a DNS-1123 label/);
    rejects({ name: 'fleet_1' }, /Job name 'fleet_1'/);
    rejects({ name: '-fleet' }, /Job name '-fleet'/);
    rejects({ name: 'a'.repeat(64) }, /at most 63 characters/);
    rejects({ name: '' }, /Job name ''/);
    rejects({ namespace: 'kube.system' }, /namespace 'kube.system'/);
    rejects({ registrySecret: 'Reg' }, /registry Secret 'Reg' .*DNS-1123 subdomain/);
    rejects({ registrySecretKey: 'a/b' }, /registry Secret key 'a\/b'/);
    assert.doesNotThrow(() => kubernetesJob({ ...BASE, name: 'a'.repeat(63), registrySecret: 'reg.cred-1' }));
  });

  it('refuses counts and quantities out of range', () => {
    rejects({ completions: 0 }, /completions must be a whole number from 1 to 100000, not 0/);
    rejects({ completions: 2.5 }, /completions/);
    rejects({ parallelism: 4 }, /parallelism must be a whole number from 1 to 3, not 4/);
    rejects({ parallelism: 0 }, /parallelism/);
    rejects({ backoffLimitPerIndex: -1 }, /backoffLimitPerIndex/);
    rejects({ maxFailedIndexes: 4 }, /maxFailedIndexes/);
    rejects({ activeDeadlineSeconds: 0 }, /activeDeadlineSeconds/);
    rejects({ resources: { limits: { memory: '2 GB' } } }, /resources.limits.memory '2 GB' is not a Kubernetes quantity/);
    rejects({ tmpSizeLimit: 'lots' }, /tmpSizeLimit/);
  });

  it('refuses an empty or oversized plan and arguments that would split', () => {
    rejects({ planText: '' }, /plan is empty/);
    rejects({ planText: 'x'.repeat(1024 * 1024) }, /ConfigMap holds at most/);
    rejects({ image: 'lazyimg 0.1' }, /image must be one word/);
    rejects({ cache: '' }, /cache must be one word/);
  });
});
