import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkDaemonConfig, checkContainerdConfig, formatProblem, PROFILES } from '../../../src/core/snapshotter/index.js';
import { FormatError } from '../../../src/core/errors.js';

describe('checkDaemonConfig', () => {
  it('accepts the recipe configs of both daemons', () => {
    const stargz = checkDaemonConfig(PROFILES.stargz, 'metrics_address = "127.0.0.1:8234"\nnoprefetch = true\nno_background_fetch = true\n[directory_cache]\ndirect = true\n', 'stargz.toml');
    assert.deepEqual(stargz.problems, []);
    assert.equal(stargz.metricsAddress, '127.0.0.1:8234');
    const soci = checkDaemonConfig(PROFILES.soci, [
      'metrics_address = "127.0.0.1:9000"',
      '[background_fetch]', 'disable = true',
      '[content_store]', 'type = "containerd"', 'containerd_address = "/tmp/x/containerd.sock"',
      '[pull_modes.soci_v1]', 'enable = false', '[pull_modes.soci_v2]', 'enable = true', '',
    ].join('\n'), 'soci.toml');
    assert.deepEqual(soci.problems, []);
  });

  it('names the file, line and column of a syntax error', () => {
    const c = checkDaemonConfig(PROFILES.soci, 'metrics_address = "127.0.0.1:9000"\n[background_fetch\ndisable = true\n', '/etc/soci.toml');
    assert.equal(c.problems.length, 1);
    assert.equal(c.problems[0]!.line, 2);
    assert.match(c.problems[0]!.message, /^Cannot parse \/etc\/soci\.toml, line 2, column \d+: /);
  });

  const cases = [
    { name: 'a metrics_address that is an integer', profile: PROFILES.soci, text: '\nmetrics_address = 9000\n', key: 'metrics_address', line: 2, message: /must be a string, not an integer/ },
    { name: 'noprefetch as a string', profile: PROFILES.stargz, text: 'noprefetch = "true"\n', key: 'noprefetch', line: 1, message: /must be a boolean, not a string/ },
    { name: 'no_background_fetch as an integer', profile: PROFILES.stargz, text: '# x\n\nno_background_fetch = 1\n', key: 'no_background_fetch', line: 3, message: /must be a boolean/ },
    { name: "soci's pull mode as a string", profile: PROFILES.soci, text: '[pull_modes]\n  [pull_modes.soci_v2]\n  enable = "yes"\n', key: 'pull_modes.soci_v2.enable', line: 3, message: /must be a boolean/ },
    { name: 'a dotted key of the wrong type', profile: PROFILES.soci, text: 'background_fetch.disable = 0\n', key: 'background_fetch.disable', line: 1, message: /must be a boolean/ },
    { name: 'background_fetch as a value, not a table', profile: PROFILES.soci, text: 'background_fetch = true\n', key: 'background_fetch', line: 1, message: /must be a table/ },
    { name: 'an unknown content store', profile: PROFILES.soci, text: '[content_store]\ntype = "local"\n', key: 'content_store.type', line: 2, message: /is not one of "soci", "containerd"/ },
    { name: 'a metrics address without a port', profile: PROFILES.stargz, text: 'metrics_address = "localhost"\n', key: 'metrics_address', line: 1, message: /is not host:port/ },
  ];
  for (const c of cases) {
    it(`flags ${c.name} with its line`, () => {
      const problems = checkDaemonConfig(c.profile, c.text, 'config.toml').problems.filter((p) => p.severity === 'error');
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.deepEqual([problems[0]!.key, problems[0]!.line], [c.key, c.line]);
      assert.match(problems[0]!.message, c.message);
    });
  }

  it('warns about unknown top-level keys, which the daemons ignore', () => {
    const c = checkDaemonConfig(PROFILES.stargz, 'metrics_address = "127.0.0.1:1"\nno_prefetch = true\n', 'c.toml');
    assert.deepEqual(c.problems.map((p) => [p.severity, p.key, p.line]), [['warning', 'no_prefetch', 2]]);
    assert.equal(formatProblem(c.problems[0]!), 'c.toml:2: warning: unknown key no_prefetch: containerd-stargz-grpc ignores it');
  });

  it('takes a unix metrics socket for soci', () => {
    const c = checkDaemonConfig(PROFILES.soci, 'metrics_network = "unix"\nmetrics_address = "/run/soci/metrics.sock"\n', 'c.toml');
    assert.deepEqual(c.problems, []);
    assert.equal(c.metricsAddress, '/run/soci/metrics.sock');
  });
});

describe('checkContainerdConfig', () => {
  const target = { socket: '/run/soci-snapshotter-grpc/soci-snapshotter-grpc.sock', root: '/var/lib/soci-snapshotter-grpc', platform: 'linux/amd64' };
  const sociOk = [
    '[proxy_plugins.soci]',
    '  type = "snapshot"',
    '  address = "/run/soci-snapshotter-grpc/soci-snapshotter-grpc.sock"',
    '  [proxy_plugins.soci.exports]',
    '    root = "/var/lib/soci-snapshotter-grpc/"',
    '    enable_remote_snapshot_annotations = "true"',
  ].join('\n');

  it('accepts a v2 config wired as the recipe says', () => {
    const w = checkContainerdConfig(PROFILES.soci, `version = 2\n${sociOk}\n`, 'config.toml', target);
    assert.deepEqual([w.version, w.plugin, w.problems, w.snippet], [2, 'soci', [], undefined]);
  });

  it('finds a plugin by its socket whatever its name', () => {
    const w = checkContainerdConfig(PROFILES.soci, `version = 2\n${sociOk.replace(/proxy_plugins\.soci/g, 'proxy_plugins."my-soci"')}\n`, 'config.toml', target);
    assert.deepEqual([w.plugin, w.problems], ['my-soci', []]);
  });

  it('gives the TOML to add when the plugin is missing, and the snippet fixes it (v3 with the transfer service)', () => {
    const base = 'version = 3\nroot = "/var/lib/containerd"\n';
    const w = checkContainerdConfig(PROFILES.soci, base, 'config.toml', target);
    assert.equal(w.plugin, undefined);
    assert.deepEqual(w.problems.map((p) => p.severity), ['error', 'error']);
    assert.match(w.problems[0]!.message, /no \[proxy_plugins\] entry points at \/run\/soci-snapshotter-grpc/);
    assert.match(w.snippet!, /^\[proxy_plugins\.soci\]\n  type = "snapshot"\n  address = "\/run\/soci-snapshotter-grpc\/soci-snapshotter-grpc\.sock"\n/);
    assert.match(w.snippet!, /enable_remote_snapshot_annotations = "true"/);
    assert.match(w.snippet!, /\[\[plugins\."io\.containerd\.transfer\.v1\.local"\.unpack_config\]\]\n  platform = "linux\/amd64"\n  snapshotter = "soci"/);
    const fixed = checkContainerdConfig(PROFILES.soci, `${base}${w.snippet}`, 'config.toml', target);
    assert.deepEqual(fixed.problems, []);
  });

  const wrong = [
    { name: 'a wrong type', edit: (t: string) => t.replace('type = "snapshot"', 'type = "content"'), key: 'proxy_plugins.soci.type', line: 2 },
    { name: 'the annotations export missing', edit: (t: string) => t.replace(/\n.*enable_remote.*/, ''), key: 'proxy_plugins.soci.exports.enable_remote_snapshot_annotations', line: 1 },
    { name: 'the annotations export as a boolean', edit: (t: string) => t.replace('"true"', 'true'), key: 'proxy_plugins.soci.exports.enable_remote_snapshot_annotations', line: 6 },
    { name: 'another root', edit: (t: string) => t.replace('/var/lib/soci-snapshotter-grpc/', '/srv/soci'), key: 'proxy_plugins.soci.exports.root', line: 5 },
  ];
  for (const c of wrong) {
    it(`names ${c.name}, with its line and the table to use instead`, () => {
      const w = checkContainerdConfig(PROFILES.soci, c.edit(sociOk), 'config.toml', target);
      assert.deepEqual(w.problems.map((p) => [p.key, p.line]), [[c.key, c.line]]);
      assert.ok(w.snippet?.startsWith('[proxy_plugins.soci]\n'));
    });
  }

  it("points at a plugin whose address is another socket: it is not this daemon's", () => {
    const w = checkContainerdConfig(PROFILES.stargz, '[proxy_plugins.stargz]\ntype = "snapshot"\naddress = "/tmp/other.sock"\n', 'c.toml', { ...target, socket: '/run/containerd-stargz-grpc/containerd-stargz-grpc.sock', root: '/var/lib/containerd-stargz-grpc' });
    assert.deepEqual(w.problems.map((p) => [p.severity, p.line]), [['error', 3], ['warning', 1]]);
    assert.match(w.problems[0]!.message, /address is "\/tmp\/other\.sock", but the daemon listens on/);
  });

  it('refuses a containerd config that is not TOML, naming the line', () => {
    assert.throws(() => checkContainerdConfig(PROFILES.soci, 'version = 2\n[proxy_plugins.soci\n', 'config.toml', target), (e: unknown) => e instanceof FormatError && /config\.toml, line 2/.test(e.message));
  });
});
