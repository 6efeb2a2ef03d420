// `lazyimg batch --emit-k8s`, as a user runs it: the flags reach the manifests, a bad plan or name
// fails before anything is written, and the Job flags are refused without --emit-k8s.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { runCli } from './fixtures/cli.js';

describe('lazyimg batch --emit-k8s', () => {
  let dir: string;
  let plan: string;
  const planText = 'version: 1\ncache: 127.0.0.1:5000/lazyimg-cache\nitems:\n  - source: 127.0.0.1:5000/app:1.0\n    operation: soci-v2\n';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lazyimg-emit-k8s-'));
    plan = join(dir, 'plan.yaml');
    await writeFile(plan, planText);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints the ConfigMap and the Indexed Job with the flags given, without touching a registry', async () => {
    const r = await runCli(['batch', plan, '--emit-k8s', '--image', 'registry.example/lazyimg:0.1.0', '--completions', '4', '--parallelism', '2',
      '--backoff-limit-per-index', '3', '--name', 'nightly', '--namespace', 'builds', '--registry-secret', 'regcred', '--host-network', '--cache', 'oci:/cache']);
    assert.equal(r.code, 0, r.stderr);
    const [configMap, job] = parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(configMap!.metadata.name, 'nightly-plan');
    assert.equal(configMap!.data['plan.yaml'], planText);
    assert.equal(job!.metadata.namespace, 'builds');
    assert.deepEqual([job!.spec.completions, job!.spec.parallelism, job!.spec.backoffLimitPerIndex], [4, 2, 3]);
    const pod = job!.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.containers[0].image, 'registry.example/lazyimg:0.1.0');
    assert.deepEqual(pod.containers[0].args, ['batch', '/etc/lazyimg/plan.yaml', '--cache', 'oci:/cache']);
    assert.equal(pod.volumes.find((v: { name: string }) => v.name === 'registry-auth').secret.secretName, 'regcred');
  });

  it('defaults to one shard of this version of the image, and writes to --output', async () => {
    const out = join(dir, 'job.yaml');
    const r = await runCli(['batch', plan, '--emit-k8s', '--output', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    const version = (await runCli(['--version'])).stdout.trim();
    const job = parseAllDocuments(await readFile(out, 'utf8'))[1]!.toJS() as { spec: { completions: number; parallelism: number; template: { spec: { containers: { image: string }[]; hostNetwork?: boolean } } }; metadata: { name: string } };
    assert.equal(job.metadata.name, 'lazyimg-batch');
    assert.deepEqual([job.spec.completions, job.spec.parallelism], [1, 1]);
    assert.equal(job.spec.template.spec.containers[0]!.image, `lazyimg:${version}`);
    assert.equal(job.spec.template.spec.hostNetwork, undefined);
  });

  it('fails on a bad plan or name before writing anything', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'version: 2\nitems: []\n');
    const out = join(dir, 'never.yaml');
    const r = await runCli(['batch', bad, '--emit-k8s', '--output', out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.yaml/);
    await assert.rejects(readFile(out));
    const named = await runCli(['batch', plan, '--emit-k8s', '--name', 'Nightly_Run']);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /Job name 'Nightly_Run' is not a valid Kubernetes name/);
  });

  it('refuses Job flags without --emit-k8s, and run flags with it', async () => {
    const stray = await runCli(['batch', plan, '--completions', '3', '--host-network']);
    assert.equal(stray.code, 2);
    assert.match(stray.stderr, /--completions, --host-network only go with --emit-k8s/);
    const mixed = await runCli(['batch', plan, '--emit-k8s', '--shard', '0/2']);
    assert.equal(mixed.code, 2);
    assert.match(mixed.stderr, /takes neither --shard nor --dry-run/);
  });
});
