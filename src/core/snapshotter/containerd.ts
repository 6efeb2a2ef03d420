// Is containerd wired to the daemon? Its config.toml (layout v2 or v3; proxy_plugins sit at the
// top level in both) must name the daemon's socket as a snapshot proxy plugin. For SOCI the
// recipe also needs the exports that make containerd pass the image labels, and with the v3
// transfer service an unpack_config entry for the snapshotter. Each gap comes with the TOML to add.
import { readFile } from 'node:fs/promises';
import { LazyImageError } from '../errors.js';
import type { ConfigProblem } from './problems.js';
import type { SnapshotterProfile } from './profiles.js';
import { keyLines, lookup, parseToml, tomlString, type TomlTable } from './toml.js';

export const CONTAINERD_CONFIG = '/etc/containerd/config.toml';
const TRANSFER = 'io.containerd.transfer.v1.local';

export interface ContainerdWiring {
  file: string;
  /** The config's `version` (1 when absent, as containerd reads it). */
  version: number;
  /** The proxy plugin found for the daemon's socket, by name. */
  plugin: string | undefined;
  problems: ConfigProblem[];
  /** TOML to add (or to replace the plugin's table with) when something is missing or wrong. */
  snippet: string | undefined;
}

export interface WiringTarget {
  socket: string;
  root: string;
  /** `linux/amd64` style, for the unpack_config entry. */
  platform: string;
}

function samePath(a: unknown, b: string): boolean {
  return typeof a === 'string' && a.replace(/^unix:\/\//, '').replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

/** Checks containerd's config text for the daemon's proxy plugin. */
export function checkContainerdConfig(profile: SnapshotterProfile, text: string, file: string, target: WiringTarget): ContainerdWiring {
  const config = parseToml(text, file);
  const lines = keyLines(text);
  const version = typeof config.version === 'number' ? config.version : 1;
  const problems: ConfigProblem[] = [];
  const proxies = (lookup(config, ['proxy_plugins']) ?? {}) as Record<string, TomlTable>;
  // The plugin may carry any name; the socket is what ties it to this daemon.
  const byAddress = Object.keys(proxies).find((name) => samePath(proxies[name]?.address, target.socket));
  const name = byAddress ?? profile.kind;
  const plugin = proxies[name];
  const where = `proxy_plugins.${name}`;
  let pluginWrong = false;
  const problem = (key: string, message: string, severity: ConfigProblem['severity'] = 'error'): void => {
    problems.push({ severity, file, line: lines.get(key) ?? lines.get(where), key, message });
    if (severity === 'error') pluginWrong = true;
  };
  if (plugin === undefined) {
    problems.push({ severity: 'error', file, message: `no [proxy_plugins] entry points at ${target.socket}: containerd cannot use the ${profile.kind} snapshotter` });
    pluginWrong = true;
  } else {
    if (plugin.type !== 'snapshot') problem(`${where}.type`, `${where}.type must be "snapshot", not ${JSON.stringify(plugin.type ?? null)}`);
    if (!samePath(plugin.address, target.socket)) problem(`${where}.address`, `${where}.address is ${JSON.stringify(plugin.address ?? null)}, but the daemon listens on ${target.socket}`);
    const exports = (plugin.exports ?? {}) as TomlTable;
    if (!samePath(exports.root, target.root)) {
      problem(`${where}.exports.root`, `${where}.exports.root should be ${JSON.stringify(target.root)}`, profile.kind === 'soci' ? 'error' : 'warning');
    }
    if (profile.kind === 'soci' && exports.enable_remote_snapshot_annotations !== 'true') {
      problem(`${where}.exports.enable_remote_snapshot_annotations`, `${where}.exports.enable_remote_snapshot_annotations must be "true": without it containerd sends no image labels and SOCI pulls everything`);
    }
  }
  const snippets: string[] = [];
  if (pluginWrong || problems.length > 0) snippets.push(pluginSnippet(profile, name, target));
  if (version >= 3 && !hasUnpackEntry(config, name)) {
    problems.push({ severity: profile.kind === 'soci' ? 'error' : 'warning', file, line: lines.get(`plugins.${TRANSFER}`), message: `no unpack_config entry of the transfer service uses snapshotter ${JSON.stringify(name)}: ctr images pull --snapshotter ${name} cannot unpack with it` });
    snippets.push(unpackSnippet(name, target.platform));
  }
  return { file, version, plugin: plugin === undefined ? undefined : name, problems, snippet: snippets.length > 0 ? snippets.join('\n') : undefined };
}

function hasUnpackEntry(config: TomlTable, name: string): boolean {
  const entries = lookup(config, ['plugins', TRANSFER, 'unpack_config']);
  return Array.isArray(entries) && entries.some((e) => (e as TomlTable | undefined)?.snapshotter === name);
}

function pluginSnippet(profile: SnapshotterProfile, name: string, target: WiringTarget): string {
  const lines = [`[proxy_plugins.${name}]`, '  type = "snapshot"', `  address = ${tomlString(target.socket)}`, `[proxy_plugins.${name}.exports]`, `  root = ${tomlString(target.root)}`];
  if (profile.kind === 'soci') lines.push('  enable_remote_snapshot_annotations = "true"');
  return `${lines.join('\n')}\n`;
}

function unpackSnippet(name: string, platform: string): string {
  return `[[plugins."${TRANSFER}".unpack_config]]\n  platform = ${tomlString(platform)}\n  snapshotter = ${tomlString(name)}\n`;
}

/** This machine's platform as containerd names it. */
export function hostPlatform(): string {
  const arch: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return `linux/${arch[process.arch] ?? process.arch}`;
}

/** Reads containerd's config; a missing file is an error that says where we looked. */
export async function readContainerdConfig(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'NOT_FOUND' : 'IO';
    throw new LazyImageError(code, `Cannot read containerd's config ${file}: ${(e as Error).message}`, { ref: file, cause: e });
  }
}
