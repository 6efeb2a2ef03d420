// A daemon's config.toml: parsed, then the keys this tool relies on checked against the types the
// daemon decodes them into (a wrong type stops the daemon at start), and unknown top-level keys
// flagged, since the daemons ignore them silently.
import { readFile } from 'node:fs/promises';
import { LazyImageError } from '../errors.js';
import type { ConfigProblem } from './problems.js';
import type { SnapshotterProfile } from './profiles.js';
import { keyLines, lookup, parseToml, tomlKind, type TomlTable } from './toml.js';

export interface DaemonConfig {
  file: string;
  /** False when the file does not exist: the daemon then runs on its defaults. */
  exists: boolean;
  /** Empty when the file is missing or has a syntax error. */
  values: TomlTable;
  problems: ConfigProblem[];
  /** `host:port` (or a socket path for soci's `metrics_network = "unix"`), when metrics are on. */
  metricsAddress: string | undefined;
}

/** Reads and checks a daemon config file; a missing file is no problem, as for the daemons. */
export async function readDaemonConfig(profile: SnapshotterProfile, file: string): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, exists: false, values: {}, problems: [], metricsAddress: undefined };
    throw new LazyImageError('IO', `Cannot read ${file}: ${(e as Error).message}`, { ref: file, cause: e });
  }
  return checkDaemonConfig(profile, text, file);
}

/** Checks the text of a daemon config; a syntax error is one problem with its line. */
export function checkDaemonConfig(profile: SnapshotterProfile, text: string, file: string): DaemonConfig {
  let values: TomlTable;
  try {
    values = parseToml(text, file);
  } catch (e) {
    const line = (e as { offset?: number }).offset;
    return { file, exists: true, values: {}, problems: [{ severity: 'error', file, line, message: (e as Error).message }], metricsAddress: undefined };
  }
  const lines = keyLines(text);
  const problems: ConfigProblem[] = [];
  const at = (key: string): number | undefined => lines.get(key);
  for (const [key, want] of Object.entries(profile.keys)) {
    const value = lookup(values, key.split('.'));
    if (value === undefined) continue;
    const got = tomlKind(value);
    if (got !== want) {
      problems.push({ severity: 'error', file, line: at(key), key, message: `${key} must be ${want === 'integer' ? 'an' : 'a'} ${want}, not ${got === 'integer' ? 'an' : 'a'} ${got} (the daemon refuses to start)` });
      continue;
    }
    const choices = profile.choices[key];
    if (choices && !choices.includes(value as string)) {
      problems.push({ severity: 'error', file, line: at(key), key, message: `${key} = ${JSON.stringify(value)} is not one of ${choices.map((c) => JSON.stringify(c)).join(', ')}` });
    }
  }
  for (const key of Object.keys(values)) {
    if (!profile.topLevel.includes(key)) {
      problems.push({ severity: 'warning', file, line: at(key), key, message: `unknown key ${key}: ${profile.binary} ignores it` });
    }
  }
  const metricsAddress = typeof values.metrics_address === 'string' && values.metrics_address !== '' ? values.metrics_address : undefined;
  const unix = values.metrics_network === 'unix';
  if (metricsAddress !== undefined && !unix && !/^(?:\[[0-9a-fA-F:.]+\]|[^:\s]*):\d{1,5}$/.test(metricsAddress)) {
    problems.push({ severity: 'error', file, line: at('metrics_address'), key: 'metrics_address', message: `metrics_address ${JSON.stringify(metricsAddress)} is not host:port` });
  }
  if (values.no_prometheus === true && metricsAddress !== undefined) {
    problems.push({ severity: 'warning', file, line: at('no_prometheus'), key: 'no_prometheus', message: 'no_prometheus = true: the metrics endpoint serves no snapshotter metrics' });
  }
  return { file, exists: true, values, problems, metricsAddress };
}
