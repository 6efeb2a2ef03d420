// The questions before Optimize for Startup..., in the shared wizard: the command to record
// (the image's own entrypoint and command unless changed), how long to watch it, the new tag, the
// network and the gzip level. All but the command and the tag are remembered.
import * as vscode from 'vscode';
import type { ImageReference } from '../../core/oci/index.js';
import { parseCommandLine, shellLine } from '../commandLine.js';
import { askLevel, tagProblem } from './convertOptions.js';
import { shortName } from './jobParams.js';
import { askTag, proposedTag, runWizard, type WizardMemory } from './wizard.js';

export interface OptimizeChoices {
  destination: ImageReference;
  /** Instead of the image's entrypoint and command; undefined: the image's own. */
  command?: string[];
  periodSeconds: number;
  network: boolean;
  level: number;
}

/** As `lazyimg optimize`: ten seconds, as ctr-remote watches. */
const DEFAULT_PERIOD = 10;
const DEFAULT_LEVEL = 9;
type Remembered = Pick<OptimizeChoices, 'periodSeconds' | 'network' | 'level'>;

/** `imageCommand` is the config's entrypoint and command; an image without one gets asked for one first. */
export async function askOptimizeOptions(source: ImageReference, imageCommand: string[], memory: WizardMemory): Promise<OptimizeChoices | undefined> {
  const title = `Optimize ${shortName(source)} for startup`;
  const remembered = memory.recall<Remembered>('optimize', { periodSeconds: DEFAULT_PERIOD, network: false, level: DEFAULT_LEVEL });
  const choices: OptimizeChoices = { destination: { ...source, tag: proposedTag(source, 'opt'), digest: undefined }, ...remembered };
  if (imageCommand.length === 0) {
    choices.command = (await askCommand(title, undefined, imageCommand))?.command;
    if (!choices.command) return undefined;
  }
  const done = await runWizard<OptimizeChoices>({
    title,
    go: { label: '$(play) Record and Convert', describe: (c) => `run it for up to ${c.periodSeconds} s, then write ${shortName(c.destination)}` },
    options: [
      { id: 'command', label: 'Command', describe: (c) => (c.command ? shellLine(c.command) : `${shellLine(imageCommand)} (the image's)`), change: async (c, t) => {
        const asked = await askCommand(t, c.command, imageCommand);
        if (asked) c.command = asked.command;
      } },
      { id: 'period', label: 'Time to watch', describe: (c) => `${c.periodSeconds} s${c.periodSeconds === DEFAULT_PERIOD ? ' (default)' : ''}: a workload still running then is stopped`, change: async (c, t) => {
        c.periodSeconds = await askPeriod(t, c.periodSeconds);
      } },
      { id: 'tag', label: 'Tag', describe: (c) => c.destination.tag ?? '', change: async (c, t) => {
        c.destination = { ...c.destination, tag: await askTag(t, 'Tag of the optimized image, in the same repository', c.destination.tag ?? '', (tag) => tagProblem(source, tag)) };
      } },
      { id: 'network', label: 'Network', describe: (c) => (c.network ? 'the host\'s network' : 'none, only a loopback (default)'), change: async (c) => {
        c.network = !c.network;
      } },
      { id: 'level', label: 'Compression level', describe: (c) => `${c.level}${c.level === DEFAULT_LEVEL ? ' (default: smallest, slowest)' : ''}`, change: async (c, t) => {
        c.level = (await askLevel(t)) ?? c.level;
      } },
    ],
  }, choices);
  if (done) await memory.remember<Remembered>('optimize', { periodSeconds: done.periodSeconds, network: done.network, level: done.level });
  return done;
}

/** A command line: `command` undefined for the image's own (empty, or typed again); undefined when the user left. */
async function askCommand(title: string, current: string[] | undefined, imageCommand: string[]): Promise<{ command?: string[] } | undefined> {
  const own = imageCommand.length > 0;
  const text = await vscode.window.showInputBox({
    title: `${title}: command`,
    prompt: own
      ? `The command to record, as sh words or a JSON array; it replaces the entrypoint and command. Empty: the image's own, ${shellLine(imageCommand)}`
      : 'The image has no entrypoint and no command: the command to record, as sh words or a JSON array',
    value: shellLine(current ?? imageCommand),
    placeHolder: '/bin/sh -c \'cat /etc/os-release\'',
    ignoreFocusOut: true,
    validateInput: (t) => {
      if (!t.trim() && own) return undefined;
      try {
        parseCommandLine(t);
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (text === undefined) return undefined;
  if (!text.trim()) return {};
  const words = parseCommandLine(text);
  return own && words.join('\0') === imageCommand.join('\0') ? {} : { command: words };
}

async function askPeriod(title: string, current: number): Promise<number> {
  const text = await vscode.window.showInputBox({
    title: `${title}: time to watch`,
    prompt: 'Seconds to watch the workload: what it reads in that time is recorded, and it is stopped if it still runs',
    value: String(current),
    ignoreFocusOut: true,
    validateInput: (t) => (Number(t) > 0 && Number(t) <= 3600 ? undefined : 'A number of seconds, above 0 and up to 3600'),
  });
  return text === undefined ? current : Number(text);
}
