import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { LazyImageError } from '../../core/errors.js';
import { analyzeDockerfile, buildContext, mapLayers, smallLayerFindings, type Finding, type LayerMapping, type RuleGroup } from '../../core/dockerfile/index.js';
import { formatBytes } from '../../core/format.js';
import { describeLaziness, imageLaziness } from '../../core/image/index.js';
import { formatReference, parseReference } from '../../core/oci/index.js';
import { withStores } from '../context.js';
import { collect } from '../options.js';
import { printJson, terminalLines } from '../format.js';

interface LintOptions {
  json?: boolean;
  image?: string;
  disable?: string[];
}

const GROUPS: readonly RuleGroup[] = ['cache', 'size', 'multistage', 'lazy'];

export function registerLint(program: Command): void {
  program
    .command('lint')
    .description('suggest a Dockerfile layer order and contents that cache and lazy-load well')
    .argument('<Dockerfile>', 'the Dockerfile; its folder is taken as the build context')
    .option('--image <ref>', 'an image built from it: report each layer\'s size and whether it is pulled lazily')
    .option('--disable <group>', `turn a rule group off (${GROUPS.join(', ')}); repeatable`, collect, [])
    .option('--json', 'print {findings, layers} as JSON')
    .action(async (path: string, options: LintOptions, command: Command) => {
      const unknown = (options.disable ?? []).filter((g) => !GROUPS.includes(g as RuleGroup));
      if (unknown.length) throw new LazyImageError('INVALID_ARGUMENT', `Unknown rule group ${unknown.join(', ')}: use ${GROUPS.join(', ')}`);
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        throw new LazyImageError('NOT_FOUND', `Cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
      }
      const { model, findings } = analyzeDockerfile(text, { disabledGroups: options.disable as RuleGroup[], ...buildContext(dirname(path)) });
      let mapping: LayerMapping | undefined;
      if (options.image) {
        const ref = parseReference(options.image);
        const image = await withStores(command, async (stores, signal) => imageLaziness(await stores.open(ref), ref.digest ?? ref.tag, { signal }));
        mapping = mapLayers(model, image);
        if (!options.disable?.includes('lazy')) findings.push(...smallLayerFindings(model, mapping));
        if (mapping.problem) process.stderr.write(terminalLines([`lazyimg: layer report for ${formatReference(ref)}: ${mapping.problem}`]));
      }
      if (options.json) {
        printJson({ findings, layers: mapping?.layers.map((l) => ({ line: l.instruction.range.start.line + 1, keyword: l.instruction.keyword, ...l.layer })) ?? null });
        return;
      }
      process.stdout.write(render(path, findings, mapping));
    });
}

function render(path: string, findings: Finding[], mapping: LayerMapping | undefined): string {
  const lines = findings.flatMap((f) => [`${path}:${f.range.start.line + 1}: ${f.severity} ${f.ruleId}: ${f.message}`, ...(f.fix ? [`    fix: ${f.fix.title}`] : [])]);
  if (!findings.length) lines.push(`${path}: no suggestions`);
  for (const { instruction, layer } of mapping?.layers ?? []) {
    lines.push(`${path}:${instruction.range.start.line + 1}: layer ${formatBytes(layer.descriptor.size)}, ${describeLaziness(layer)}`);
  }
  return terminalLines(lines);
}
