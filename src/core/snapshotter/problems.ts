// A problem found in a configuration file: what, where, and how bad.

export interface ConfigProblem {
  severity: 'error' | 'warning';
  /** The file it is in. */
  file: string;
  /** 1-based, when the key could be found. */
  line?: number;
  /** The dotted key it is about, when it is about one. */
  key?: string;
  message: string;
}

/** `config.toml:3: metrics_address must be a string, not integer` */
export function formatProblem(p: ConfigProblem): string {
  return `${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.severity === 'warning' ? 'warning: ' : ''}${p.message}`;
}
