// expensive-after-sources: system package installs and tool downloads placed after the sources
// are copied rerun on every source edit, though they do not depend on the sources.
import { firstLineRange, moveAbove, type Finding, type Rule, type RuleContext } from '../findings.js';
import type { DockerInstruction } from '../model.js';
import { runCommand, simpleCommands, words } from '../shell.js';
import { fromContext, movableAcross } from './copies.js';

/** Commands that fetch or install from outside, never reading the build context. */
function expensive(w: string[]): boolean {
  const [cmd, sub] = w;
  if (/^apt(-get)?$/.test(cmd ?? '') && w.includes('install')) return true;
  if (cmd === 'apk' && w.includes('add')) return true;
  if (/^(dnf|yum|microdnf|zypper)$/.test(cmd ?? '') && w.includes('install')) return true;
  if (cmd === 'npm' && (sub === 'install' || sub === 'i') && (w.includes('-g') || w.includes('--global'))) return true;
  if (cmd === 'gem' && sub === 'install') return true;
  return false;
}

/** Words that may refer to files the earlier COPY brought in. */
function readsContext(command: string, destination: string): boolean {
  return /(^|\s)\.{1,2}(\/|\s|$)|\$\(|`|-r\s|--requirement|\.deb\b|\.rpm\b|\.apk\b/.test(command) || (destination !== '.' && destination !== './' && command.includes(destination.replace(/\/$/, '')));
}

export const expensiveAfterSources: Rule = {
  id: 'expensive-after-sources',
  group: 'cache',
  check({ model }: RuleContext): Finding[] {
    const findings: Finding[] = [];
    for (const stage of model.stages) {
      const copyIndex = stage.instructions.findIndex(fromContext);
      if (copyIndex < 0) continue;
      const copy = stage.instructions[copyIndex];
      if (!copy) continue;
      for (const run of stage.instructions.slice(copyIndex + 1)) {
        const command = runCommand(run);
        if (!command) continue;
        const commands = simpleCommands(command).map(words);
        if (!commands.length || !commands.every(expensiveOrSetup) || !commands.some(expensive)) continue;
        const between = stage.instructions.slice(copyIndex + 1, stage.instructions.indexOf(run));
        const safe = !readsContext(command, copy.words.at(-1) ?? '.') && between.every(movableAcross);
        findings.push({
          ruleId: expensiveAfterSources.id,
          group: 'cache',
          severity: 'information',
          range: firstLineRange(model, run),
          message: `This install runs after the build context is copied (line ${copy.range.start.line + 1}), so any source change reruns it${safe ? '' : '. Not moved automatically: it may use the copied files or what comes in between'}`,
          rationale: 'Put expensive, rarely-changing steps (system packages, tools) before the steps that change often (copying sources): they stay cached across edits.',
          source: 'docs.docker.com/build/cache/optimize/#order-your-layers',
          ...(safe ? { fix: { title: 'Move before the sources are copied', edits: moveAbove(model, run, copy) } } : {}),
        });
        break; // one at a time: after a move, the next one reads differently
      }
    }
    return findings;
  },
};

/**
 * A RUN that only installs system packages or tools from outside, naming no file of the context:
 * what it does is the same before or after the sources are copied.
 */
export function installsFromOutside(run: DockerInstruction, destination: string): boolean {
  const command = runCommand(run);
  const commands = simpleCommands(command).map(words);
  return commands.length > 0 && commands.every(expensiveOrSetup) && commands.some(expensive) && !readsContext(command, destination);
}

/** Package installs plus the housekeeping that goes with them (update, clean, rm). */
function expensiveOrSetup(w: string[]): boolean {
  const [cmd, sub] = w;
  return expensive(w) || (/^apt(-get)?$/.test(cmd ?? '') && ['update', 'clean', 'autoremove'].includes(sub ?? '')) || (cmd === 'apk' && sub === 'update')
    || (/^(dnf|yum|microdnf)$/.test(cmd ?? '') && sub === 'clean') || (cmd === 'rm' && w.some((x) => /\/var\/(lib|cache)\//.test(x)));
}
