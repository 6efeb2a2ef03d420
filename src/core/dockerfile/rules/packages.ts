// Package-manager hygiene: caches and index files left in a layer ship with every pull of it, and
// an `apt-get update` cached on its own serves stale indexes. Each rule has a one-edit fix.
import { firstLineRange, instructionText, positionIn, type Finding, type Rule, type RuleContext, type TextEdit } from '../findings.js';
import type { DockerInstruction, DockerfileModel, Stage } from '../model.js';
import { hasCacheMount, runCommand, simpleCommands, words } from '../shell.js';

const APT = /^apt(-get)?$/;

interface RunInfo {
  stage: Stage;
  ins: DockerInstruction;
  command: string;
  commands: string[][];
}

function runs(model: DockerfileModel): RunInfo[] {
  return model.stages.flatMap((stage) => stage.instructions
    .filter((ins) => ins.keyword === 'RUN' && !ins.jsonForm && !ins.heredoc)
    .map((ins) => {
      const command = runCommand(ins);
      return { stage, ins, command, commands: simpleCommands(command).map(words) };
    }));
}

/** What the image ships: the final stage and the stages it is built FROM. */
function ships(stage: Stage): boolean {
  return stage.final || stage.inherited;
}

/** An edit inserting `text` right after the first match of `pattern` in the instruction. */
function insertAfter(model: DockerfileModel, ins: DockerInstruction, pattern: RegExp, text: string): TextEdit[] | undefined {
  const m = pattern.exec(instructionText(model, ins));
  if (!m) return undefined;
  const at = positionIn(model, ins, m.index + m[0].length);
  return [{ range: { start: at, end: at }, newText: text }];
}

/** An edit appending one more command at the end of the RUN, in its own line style. */
function append(model: DockerfileModel, ins: DockerInstruction, command: string): TextEdit[] {
  const afterSemicolon = /;\s*$/.test(instructionText(model, ins));
  const next = afterSemicolon ? command : `&& ${command}`;
  const multiline = ins.range.end.line > ins.range.start.line;
  return [{ range: { start: ins.range.end, end: ins.range.end }, newText: multiline ? ` \\\n    ${next}` : ` ${next}` }];
}

function base(model: DockerfileModel, ins: DockerInstruction, rule: Rule, message: string, rationale: string, source: string): Finding {
  return { ruleId: rule.id, group: rule.group, severity: 'information', range: firstLineRange(model, ins), message, rationale, source };
}

export const aptUpdateAlone: Rule = {
  id: 'apt-update-alone',
  group: 'cache',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ stage, ins, commands }) => {
      const update = commands.some((w) => APT.test(w[0] ?? '') && w[1] === 'update');
      const install = commands.some((w) => APT.test(w[0] ?? '') && w.includes('install'));
      if (!update || install) return [];
      const finding = base(model, ins, aptUpdateAlone, '`apt-get update` runs in its own RUN: its cached layer serves stale package lists to later installs',
        'Run `apt-get update` and `apt-get install` in one RUN, so the install always sees fresh indexes and a changed package list busts both together.',
        'docs.docker.com/build/building/best-practices/#apt-get');
      const next = stage.instructions[stage.instructions.indexOf(ins) + 1];
      const nextCommands = next && next.keyword === 'RUN' && !next.jsonForm && !next.heredoc ? simpleCommands(runCommand(next)).map(words) : [];
      const mergeable = next && next.firstLine === next.range.start.line && Object.keys(next.flags).length === 0 && nextCommands.some((w) => APT.test(w[0] ?? '') && w.includes('install'));
      if (!next || !mergeable) return [finding];
      const rest = instructionText(model, next).replace(/^RUN\s+/i, '');
      return [{
        ...finding,
        fix: {
          title: 'Merge with the next RUN',
          edits: [
            { range: { start: ins.range.end, end: ins.range.end }, newText: ` \\\n    && ${rest}` },
            { range: { start: { line: next.range.start.line, character: 0 }, end: { line: next.range.end.line + 1, character: 0 } }, newText: '' },
          ],
        },
      }];
    });
  },
};

export const aptNoRecommends: Rule = {
  id: 'apt-no-recommends',
  group: 'size',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ ins, commands }) => {
      const install = commands.find((w) => APT.test(w[0] ?? '') && w.includes('install'));
      if (!install || install.some((w) => w === '--no-install-recommends' || /Install-Recommends=(false|0)/i.test(w))) return [];
      const edits = insertAfter(model, ins, /\bapt(?:-get)?\s+(?:-\S+\s+)*install\b/, ' --no-install-recommends');
      return [{
        ...base(model, ins, aptNoRecommends, '`apt-get install` also installs recommended packages', 'Recommended packages are rarely needed in an image and can double its size; `--no-install-recommends` installs only what was asked for.', 'hadolint DL3015; docs.docker.com/build/building/best-practices/#apt-get'),
        ...(edits ? { fix: { title: 'Add --no-install-recommends', edits } } : {}),
      }];
    });
  },
};

export const aptListsLeft: Rule = {
  id: 'apt-lists-left',
  group: 'size',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ stage, ins, command, commands }) => {
      // An update on its own is apt-update-alone's finding: removing its lists would break the install after it.
      const apt = (sub: (w: string[]) => boolean): boolean => commands.some((w) => APT.test(w[0] ?? '') && sub(w));
      if (!ships(stage) || !apt((w) => w[1] === 'update') || !apt((w) => w.includes('install'))) return [];
      if (command.includes('/var/lib/apt/lists') || hasCacheMount(ins, '/var/lib/apt')) return [];
      return [{
        ...base(model, ins, aptListsLeft, 'The apt package lists stay in this layer (tens of MB)', 'Delete `/var/lib/apt/lists/*` in the same RUN that fetched them (a later RUN cannot shrink this layer), or keep them in a `--mount=type=cache`.', 'hadolint DL3009; docs.docker.com/build/building/best-practices/#apt-get'),
        fix: { title: 'Remove the apt lists in the same RUN', edits: append(model, ins, 'rm -rf /var/lib/apt/lists/*') },
      }];
    });
  },
};

export const apkNoCache: Rule = {
  id: 'apk-no-cache',
  group: 'size',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ ins, command, commands }) => {
      const add = commands.find((w) => w[0] === 'apk' && w.includes('add'));
      if (!add || add.includes('--no-cache') || command.includes('/var/cache/apk') || hasCacheMount(ins, '/var/cache/apk')) return [];
      const edits = insertAfter(model, ins, /\bapk\s+(?:-\S+\s+)*add\b/, ' --no-cache');
      return [{
        ...base(model, ins, apkNoCache, '`apk add` keeps its package index in the layer', '`apk add --no-cache` fetches the index to a temporary place and leaves nothing behind.', 'hadolint DL3019'),
        ...(edits ? { fix: { title: 'Add --no-cache', edits } } : {}),
      }];
    });
  },
};

export const pipNoCache: Rule = {
  id: 'pip-no-cache',
  group: 'size',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ stage, ins, command, commands }) => {
      if (!ships(stage)) return [];
      const pip = commands.find((w) => /^pip3?$/.test(w[0] ?? '') && w[1] === 'install') ?? commands.find((w) => /^python3?$/.test(w[0] ?? '') && w[1] === '-m' && w[2] === 'pip' && w[3] === 'install');
      if (!pip || pip.includes('--no-cache-dir') || /PIP_NO_CACHE_DIR/.test(command) || hasCacheMount(ins, '.cache/pip')) return [];
      const upTo = stage.instructions.slice(0, stage.instructions.indexOf(ins));
      if (upTo.some((i) => i.keyword === 'ENV' && /PIP_NO_CACHE_DIR/.test(i.args))) return [];
      const edits = insertAfter(model, ins, /\b(?:pip3?|python3?\s+-m\s+pip)\s+install\b/, ' --no-cache-dir');
      return [{
        ...base(model, ins, pipNoCache, '`pip install` keeps its download cache in the layer', '`--no-cache-dir` (or `PIP_NO_CACHE_DIR=1`, or a cache mount on `/root/.cache/pip`) keeps downloaded wheels out of the image.', 'hadolint DL3042'),
        ...(edits ? { fix: { title: 'Add --no-cache-dir', edits } } : {}),
      }];
    });
  },
};

export const dnfNoClean: Rule = {
  id: 'dnf-no-clean',
  group: 'size',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ stage, ins, command, commands }) => {
      if (!ships(stage)) return [];
      const install = commands.find((w) => /^(dnf|yum|microdnf|zypper)$/.test(w[0] ?? '') && w.includes('install'));
      if (!install) return [];
      const tool = install[0] as string;
      if (commands.some((w) => w[0] === tool && w.includes('clean')) || /\/var\/cache\/(dnf|yum|zypp|libdnf5)/.test(command) || hasCacheMount(ins, '/var/cache')) return [];
      return [{
        ...base(model, ins, dnfNoClean, `\`${tool} install\` leaves its package cache in the layer`, `End the RUN with \`${tool} clean all\`, so downloaded packages and metadata do not ship.`, 'hadolint DL3032, DL3036, DL3040'),
        fix: { title: `Add ${tool} clean all`, edits: append(model, ins, `${tool} clean all`) },
      }];
    });
  },
};
