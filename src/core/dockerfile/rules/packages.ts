// Package-manager hygiene: caches and index files left in a layer ship with every pull of it, and
// an `apt-get update` cached on its own serves stale indexes. Each rule has a one-edit fix.
import { firstLineRange, instructionText, positionIn, type Finding, type Rule, type RuleContext, type TextEdit } from '../findings.js';
import { parentStage, type DockerInstruction, type DockerfileModel, type Stage } from '../model.js';
import { hasCacheMount, runCommand, simpleCommands, subcommand, words } from '../shell.js';

const APT = /^apt(-get)?$/;
/** `apt-get [options] install`, within one simple command. */
const APT_INSTALL = /\bapt(?:-get)?\s+(?:[^\s;|&]+\s+)*?install\b/g;

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

function isApt(w: string[], sub: string): boolean {
  return APT.test(w[0] ?? '') && subcommand(w) === sub;
}

/** Inserts before a trailing shell comment on the line, if there is one (`cmd  # note`). */
function beforeComment(model: DockerfileModel, ins: DockerInstruction): { line: number; character: number } {
  const end = ins.range.end;
  const line = model.lines[end.line] ?? '';
  const upTo = line.slice(0, end.character);
  const comment = /\s+#[^'"]*$/.exec(upTo);
  return comment ? { line: end.line, character: comment.index } : end;
}

/** An edit inserting `text` right after the `nth` match of `pattern` (global for nth > 0) in the instruction. */
function insertAfter(model: DockerfileModel, ins: DockerInstruction, pattern: RegExp, text: string, nth = 0): TextEdit[] | undefined {
  const all = pattern.global ? [...instructionText(model, ins).matchAll(pattern)] : [pattern.exec(instructionText(model, ins))];
  const m = all[nth];
  if (!m) return undefined;
  const at = positionIn(model, ins, m.index + m[0].length);
  return [{ range: { start: at, end: at }, newText: text }];
}

/** An edit appending one more command at the end of the RUN, in its own line style. */
function append(model: DockerfileModel, ins: DockerInstruction, command: string): TextEdit[] {
  const at = beforeComment(model, ins);
  const lastLine = (model.lines[at.line] ?? '').slice(0, at.character);
  const next = /;\s*$/.test(lastLine) ? command : `&& ${command}`;
  const multiline = ins.range.end.line > ins.range.start.line;
  return [{ range: { start: at, end: at }, newText: multiline ? ` \\\n    ${next}` : ` ${next}` }];
}

/** Whether an ENV sets `name` before `ins`, in its stage or the stages it is built FROM. */
function envSet(model: DockerfileModel, stage: Stage, ins: DockerInstruction, name: string): boolean {
  for (let s: Stage | undefined = stage; s; s = parentStage(model.stages, s)) {
    const upTo = s === stage ? s.instructions.slice(0, s.instructions.indexOf(ins)) : s.instructions;
    if (upTo.some((i) => i.keyword === 'ENV' && i.args.includes(name))) return true;
  }
  return false;
}

function base(model: DockerfileModel, ins: DockerInstruction, rule: Rule, message: string, rationale: string, source: string): Finding {
  return { ruleId: rule.id, group: rule.group, severity: 'information', range: firstLineRange(model, ins), message, rationale, source };
}

export const aptUpdateAlone: Rule = {
  id: 'apt-update-alone',
  group: 'cache',
  check({ model }: RuleContext): Finding[] {
    return runs(model).flatMap(({ stage, ins, commands }) => {
      const update = commands.some((w) => isApt(w, 'update'));
      const install = commands.some((w) => isApt(w, 'install'));
      if (!update || install) return [];
      const finding = base(model, ins, aptUpdateAlone, '`apt-get update` runs in its own RUN: its cached layer serves stale package lists to later installs',
        'Run `apt-get update` and `apt-get install` in one RUN, so the install always sees fresh indexes and a changed package list busts both together.',
        'docs.docker.com/build/building/best-practices/#apt-get');
      const next = stage.instructions[stage.instructions.indexOf(ins) + 1];
      const nextCommands = next && next.keyword === 'RUN' && !next.jsonForm && !next.heredoc ? simpleCommands(runCommand(next)).map(words) : [];
      const mergeable = next && next.firstLine === next.range.start.line && Object.keys(next.flags).length === 0 && Object.keys(ins.flags).length === 0 && nextCommands.some((w) => isApt(w, 'install'));
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
    return runs(model).flatMap(({ stage, ins, commands }) => {
      if (!stage.ships) return [];
      const installs = commands.filter((w) => isApt(w, 'install'));
      const lacking = installs.flatMap((w, i) => (w.some((x) => x === '--no-install-recommends' || /Install-Recommends=(false|0)/i.test(x)) ? [] : [i]));
      if (!lacking.length) return [];
      // One edit per install that lacks the flag: the nth install of the RUN is the nth match.
      const found = lacking.map((nth) => insertAfter(model, ins, APT_INSTALL, ' --no-install-recommends', nth));
      const edits = found.every((e) => e !== undefined) ? found.flat() as TextEdit[] : undefined;
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
      if (!stage.ships || !commands.some((w) => isApt(w, 'update')) || !commands.some((w) => isApt(w, 'install'))) return [];
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
    return runs(model).flatMap(({ stage, ins, command, commands }) => {
      const add = stage.ships ? commands.find((w) => w[0] === 'apk' && subcommand(w) === 'add') : undefined;
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
      if (!stage.ships) return [];
      const pip = commands.find((w) => /^pip3?$/.test(w[0] ?? '') && w[1] === 'install') ?? commands.find((w) => /^python3?$/.test(w[0] ?? '') && w[1] === '-m' && w[2] === 'pip' && w[3] === 'install');
      if (!pip || pip.includes('--no-cache-dir') || /PIP_NO_CACHE_DIR/.test(command) || hasCacheMount(ins, '.cache/pip')) return [];
      if (envSet(model, stage, ins, 'PIP_NO_CACHE_DIR')) return [];
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
      if (!stage.ships) return [];
      const install = commands.find((w) => /^(dnf|yum|microdnf|zypper)$/.test(w[0] ?? '') && w.includes('install'));
      if (!install) return [];
      const tool = install[0] as string;
      if (commands.some((w) => w[0] === tool && w.includes('clean')) || /\/var\/cache\/(dnf|yum|zypp|libdnf5)/.test(command) || hasCacheMount(ins, '/var/cache')) return [];
      // zypper reads `clean all` as a repository named "all".
      const clean = tool === 'zypper' ? 'zypper clean --all' : `${tool} clean all`;
      return [{
        ...base(model, ins, dnfNoClean, `\`${tool} install\` leaves its package cache in the layer`, `End the RUN with \`${tool} clean all\`, so downloaded packages and metadata do not ship.`, 'hadolint DL3032, DL3036, DL3040'),
        fix: { title: `Add ${clean}`, edits: append(model, ins, clean) },
      }];
    });
  },
};
