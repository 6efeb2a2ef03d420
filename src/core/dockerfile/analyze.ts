// Runs every rule over a Dockerfile: one parse, findings in document order.
import type { Finding, Rule, RuleContext, RuleGroup } from './findings.js';
import { parseDockerfile, type DockerfileModel } from './model.js';
import { dependencyStepMissing } from './rules/builds.js';
import { depsBeforeSources } from './rules/dependencies.js';
import { assetsWithCode, prioritizeEntrypoint } from './rules/lazy.js';
import { buildToolsInFinal } from './rules/multistage.js';
import { expensiveAfterSources } from './rules/ordering.js';
import { apkNoCache, aptListsLeft, aptNoRecommends, aptUpdateAlone, dnfNoClean, pipNoCache } from './rules/packages.js';

export const RULES: readonly Rule[] = [
  depsBeforeSources, dependencyStepMissing, expensiveAfterSources, aptUpdateAlone, aptNoRecommends, aptListsLeft, apkNoCache, pipNoCache, dnfNoClean,
  buildToolsInFinal, assetsWithCode, prioritizeEntrypoint,
];

export interface AnalyzeOptions {
  /** Groups the user turned off. */
  disabledGroups?: readonly RuleGroup[];
  exists?: RuleContext['exists'];
  read?: RuleContext['read'];
}

export interface Analysis {
  model: DockerfileModel;
  findings: Finding[];
}

export function analyzeDockerfile(text: string, options: AnalyzeOptions = {}): Analysis {
  const model = parseDockerfile(text);
  const ctx: RuleContext = { model, ...(options.exists ? { exists: options.exists } : {}), ...(options.read ? { read: options.read } : {}) };
  const findings = RULES.filter((r) => !options.disabledGroups?.includes(r.group))
    .flatMap((r) => r.check(ctx))
    .sort((a, b) => a.range.start.line - b.range.start.line || a.ruleId.localeCompare(b.ruleId));
  return { model, findings };
}
