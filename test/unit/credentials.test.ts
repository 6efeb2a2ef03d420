import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  configKeyToRegistry,
  dockerKeychain,
  parseDockerConfig,
  runCredentialHelper,
  type Credential,
  type DockerConfig,
} from '../../src/core/registry/credentials.js';
import { assertRejectsCode, assertThrowsCode } from './helpers/errors.js';
import { envWithPath, writeScript } from './helpers/proc.js';
import { useTempDirs } from './helpers/tmp.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/**
 * `docker-credential-test`: reads the server URL on stdin (the helper protocol), logs it, and
 * answers according to the server.
 */
const HELPER = (log: string): string => `
server=$(cat)
echo "$server" >> '${log}'
case "$server" in
  ghcr.io|127.0.0.1:5000)
    printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-pass"}' "$server" ;;
  https://index.docker.io/v1/)
    printf '{"ServerURL":"%s","Username":"<token>","Secret":"hub-refresh-token"}' "$server" ;;
  empty.example)
    printf '{"ServerURL":"%s","Username":"","Secret":""}' "$server" ;;
  locked.example)
    echo 'keychain is locked' >&2; exit 3 ;;
  garbage.example)
    echo 'this is not json' ;;
  nosecret.example)
    printf '{"ServerURL":"%s","Username":"u"}' "$server" ;;
  leak-exit.example)
    printf '{"ServerURL":"%s","Username":"u","Secret":"TOPSECRET-1"}\\n' "$server"; echo 'post-step failed' >&2; exit 3 ;;
  leak-json.example)
    printf '{"ServerURL":"%s","Username":"u","Secret":hunter2}' "$server" ;;
  *)
    echo 'credentials not found in native keychain'; exit 1 ;;
esac
`;

describe('configKeyToRegistry', () => {
  const cases = [
    { key: 'https://index.docker.io/v1/', want: 'docker.io' },
    { key: 'index.docker.io', want: 'docker.io' },
    { key: 'https://registry-1.docker.io/v2/', want: 'docker.io' },
    { key: 'docker.io', want: 'docker.io' },
    { key: 'http://host:5000/v2/', want: 'host:5000' },
    { key: 'HTTPS://GHCR.IO', want: 'ghcr.io' },
    { key: 'ghcr.io', want: 'ghcr.io' },
    { key: '127.0.0.1:5000', want: '127.0.0.1:5000' },
  ];
  for (const c of cases) it(`${c.key} -> ${c.want}`, () => assert.equal(configKeyToRegistry(c.key), c.want));
});

describe('parseDockerConfig', () => {
  it('returns the document', () => {
    const doc: DockerConfig = { auths: { 'ghcr.io': { auth: b64('a:b') } }, credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' } };
    assert.deepEqual(parseDockerConfig(JSON.stringify(doc), '/x/config.json'), doc);
  });
  const bad = [
    { name: 'not JSON', text: '{"auths": ', why: 'not JSON' },
    { name: 'an array', text: '[]', why: 'not an object' },
    { name: 'null', text: 'null', why: 'not an object' },
    { name: 'auths of the wrong type', text: '{"auths": "x"}', why: 'auths' },
    { name: 'auths null', text: '{"auths": null}', why: 'auths' },
    { name: 'credsStore of the wrong type', text: '{"credsStore": 1}', why: 'credsStore' },
    { name: 'credHelpers of the wrong type', text: '{"credHelpers": "x"}', why: 'credHelpers' },
  ];
  for (const c of bad) {
    it(`rejects ${c.name}`, () => assertThrowsCode(() => parseDockerConfig(c.text, '/x/config.json'), { code: 'INVALID_FORMAT', includes: ['/x/config.json', c.why] }));
  }
});

describe('dockerKeychain', () => {
  const tempDir = useTempDirs('lazyimg-creds-');
  let bin: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  before(async () => {
    bin = await tempDir();
    log = join(bin, 'calls.log');
    await writeScript(bin, 'docker-credential-test', HELPER(log));
    env = envWithPath(bin);
  });

  async function keychain(config: DockerConfig | string): Promise<(registry: string) => Promise<Credential | undefined>> {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return dockerKeychain({ configDir: dir, env });
  }

  async function helperCalls(): Promise<string[]> {
    try {
      return (await readFile(log, 'utf8')).split('\n').filter(Boolean);
    } catch {
      return [];
    }
  }

  const auths: DockerConfig['auths'] = {
    'https://index.docker.io/v1/': { auth: b64('hubuser:hubpass') },
    'http://host:5000/v2/': { auth: b64('u5000:p:with:colons') },
    'ghcr.io': { identitytoken: 'ghcr-refresh' },
    'quay.io': { registrytoken: 'quay-bearer' },
    'registry.example': { username: 'plain', password: 'text' },
    'empty.example': {},
  };
  const fromAuths: Array<{ registry: string; want: Credential | undefined }> = [
    { registry: 'docker.io', want: { kind: 'basic', username: 'hubuser', password: 'hubpass' } },
    { registry: 'host:5000', want: { kind: 'basic', username: 'u5000', password: 'p:with:colons' } },
    { registry: 'ghcr.io', want: { kind: 'identity-token', token: 'ghcr-refresh' } },
    { registry: 'quay.io', want: { kind: 'registry-token', token: 'quay-bearer' } },
    { registry: 'registry.example', want: { kind: 'basic', username: 'plain', password: 'text' } },
    { registry: 'empty.example', want: undefined },
    { registry: 'unknown.example', want: undefined },
  ];
  for (const c of fromAuths) {
    it(`auths: ${c.registry} -> ${c.want?.kind ?? 'anonymous'}`, async () => {
      assert.deepEqual(await (await keychain({ auths }))(c.registry), c.want);
    });
  }

  it('rejects an auth entry that is not base64 of user:password', async () => {
    const get = await keychain({ auths: { 'ghcr.io': { auth: b64('no-colon') } } });
    await assertRejectsCode(get('ghcr.io'), { code: 'INVALID_FORMAT', includes: ['ghcr.io', 'config.json'], excludes: ['no-colon'] });
  });

  it('a missing config.json means anonymous access', async () => {
    const get = dockerKeychain({ configDir: await tempDir(), env });
    assert.equal(await get('docker.io'), undefined);
  });

  it('finds the folder through DOCKER_CONFIG when no configDir is given', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: b64('a:b') } } }));
    assert.deepEqual(await dockerKeychain({ env: { ...env, DOCKER_CONFIG: dir } })('ghcr.io'), { kind: 'basic', username: 'a', password: 'b' });
  });

  it('rejects a config.json that is not JSON with INVALID_FORMAT', async () => {
    const get = await keychain('{ not json');
    await assertRejectsCode(get('docker.io'), { code: 'INVALID_FORMAT', includes: ['config.json'] });
  });

  const helpers: Array<{ name: string; config: DockerConfig; registry: string; want: Credential | undefined }> = [
    { name: 'credHelpers entry for the host', config: { credHelpers: { 'ghcr.io': 'test' } }, registry: 'ghcr.io', want: { kind: 'basic', username: 'helper-user', password: 'helper-pass' } },
    { name: 'credHelpers keyed by URL', config: { credHelpers: { 'https://127.0.0.1:5000/v2/': 'test' } }, registry: '127.0.0.1:5000', want: { kind: 'basic', username: 'helper-user', password: 'helper-pass' } },
    { name: 'Docker Hub is asked as https://index.docker.io/v1/, <token> is an identity token', config: { credsStore: 'test' }, registry: 'docker.io', want: { kind: 'identity-token', token: 'hub-refresh-token' } },
    { name: 'credsStore for any host', config: { credsStore: 'test' }, registry: 'ghcr.io', want: { kind: 'basic', username: 'helper-user', password: 'helper-pass' } },
    { name: 'credHelpers wins over credsStore', config: { credsStore: 'missing-helper', credHelpers: { 'ghcr.io': 'test' } }, registry: 'ghcr.io', want: { kind: 'basic', username: 'helper-user', password: 'helper-pass' } },
    { name: 'credHelpers wins over auths', config: { credHelpers: { 'ghcr.io': 'test' }, auths: { 'ghcr.io': { auth: b64('a:b') } } }, registry: 'ghcr.io', want: { kind: 'basic', username: 'helper-user', password: 'helper-pass' } },
    { name: '"credentials not found" falls back to auths', config: { credsStore: 'test', auths: { 'other.example': { auth: b64('a:b') } } }, registry: 'other.example', want: { kind: 'basic', username: 'a', password: 'b' } },
    { name: '"credentials not found" and no auths entry is anonymous', config: { credsStore: 'test' }, registry: 'other.example', want: undefined },
    { name: 'an empty secret is anonymous', config: { credsStore: 'test' }, registry: 'empty.example', want: undefined },
  ];
  for (const c of helpers) {
    it(`helper: ${c.name}`, async () => assert.deepEqual(await (await keychain(c.config))(c.registry), c.want));
  }

  it('runs the helper once per registry and caches the answer', async () => {
    const before = (await helperCalls()).length;
    const get = await keychain({ credsStore: 'test' });
    const [a, b] = await Promise.all([get('ghcr.io'), get('ghcr.io')]);
    assert.deepEqual(a, b);
    await get('ghcr.io');
    assert.deepEqual((await helperCalls()).slice(before), ['ghcr.io']);
  });

  it('a helper failure names the helper and the exit code', async () => {
    const get = await keychain({ credHelpers: { 'locked.example': 'test' } });
    await assertRejectsCode(get('locked.example'), { code: 'UNAUTHORIZED', includes: ['docker-credential-test', 'locked.example', 'exit code 3', 'keychain is locked'] });
  });

  it('a missing helper binary is a clear error', async () => {
    const get = await keychain({ credsStore: 'does-not-exist' });
    await assertRejectsCode(get('ghcr.io'), { code: 'UNAUTHORIZED', includes: ['docker-credential-does-not-exist', 'not installed'] });
  });
});

describe('runCredentialHelper', () => {
  const tempDir = useTempDirs('lazyimg-helper-');
  let env: NodeJS.ProcessEnv;

  before(async () => {
    const bin = await tempDir();
    await writeScript(bin, 'docker-credential-test', HELPER(join(bin, 'calls.log')));
    env = envWithPath(bin);
  });

  const ok: Array<{ server: string; want: Credential | undefined }> = [
    { server: 'ghcr.io', want: { kind: 'basic', username: 'helper-user', password: 'helper-pass' } },
    { server: 'https://index.docker.io/v1/', want: { kind: 'identity-token', token: 'hub-refresh-token' } },
    { server: 'nowhere.example', want: undefined },
    { server: 'empty.example', want: undefined },
  ];
  for (const c of ok) {
    it(`${c.server} -> ${c.want?.kind ?? 'undefined'}`, async () => assert.deepEqual(await runCredentialHelper('test', c.server, env), c.want));
  }

  const failures: Array<{ name: string; helper: string; server: string; includes: string[]; code?: string }> = [
    { name: 'exit 3 with another message', helper: 'test', server: 'locked.example', includes: ['docker-credential-test', 'exit code 3', 'keychain is locked'] },
    { name: 'a reply that is not JSON', helper: 'test', server: 'garbage.example', includes: ['docker-credential-test', 'not JSON'] },
    { name: 'a reply without Secret', helper: 'test', server: 'nosecret.example', includes: ['docker-credential-test', 'no Username or Secret'] },
    { name: 'a helper that is not installed', helper: 'nope', server: 'ghcr.io', includes: ['docker-credential-nope', 'not installed', 'ghcr.io'] },
    { name: 'a helper name that could be a path', helper: '../../bin/sh', server: 'ghcr.io', includes: ['../../bin/sh'], code: 'INVALID_FORMAT' },
  ];
  for (const c of failures) {
    it(`fails for ${c.name}`, async () => {
      await assertRejectsCode(runCredentialHelper(c.helper, c.server, env), { code: c.code ?? 'UNAUTHORIZED', includes: c.includes });
    });
  }

  // Errors name the helper, never the secret, even when the helper prints it and then fails.
  const leaks = [
    { name: 'a helper that prints the credential, then exits 3', server: 'leak-exit.example', secret: 'TOPSECRET-1' },
    { name: 'a malformed reply around the secret', server: 'leak-json.example', secret: 'hunter2' },
  ];
  for (const c of leaks) {
    it(`never puts the secret in the error: ${c.name}`, async () => {
      await assertRejectsCode(runCredentialHelper('test', c.server, env), { code: 'UNAUTHORIZED', includes: ['docker-credential-test'], excludes: [c.secret] });
    });
  }
});
