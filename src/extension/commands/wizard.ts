// The shape every job wizard shares: one list where Enter starts the job and picking an option
// changes it, sizes in one format, and the last choices remembered for the next run (per wizard,
// for this user).
import * as vscode from 'vscode';
import { parseDigest, type ImageReference } from '../../core/oci/index.js';

export interface WizardOption<C> {
  id: string;
  label: string;
  describe(choices: C): string;
  /** Asks for a new value and sets it; leaving the question keeps the old one. */
  change(choices: C, title: string): Promise<void>;
  /** Offered only when this holds. */
  when?(choices: C): boolean;
}

export interface Wizard<C> {
  title: string;
  /** The first row, which starts the job: its label and what it will do. */
  go: { label: string; describe(choices: C): string };
  options: Array<WizardOption<C>>;
}

type Item = vscode.QuickPickItem & { id: string };

/** The choices once Enter was pressed on the first row; undefined when the user left. */
export async function runWizard<C>(wizard: Wizard<C>, choices: C): Promise<C | undefined> {
  for (;;) {
    const items: Item[] = [
      { id: '', label: wizard.go.label, description: wizard.go.describe(choices) },
      ...wizard.options.filter((o) => o.when?.(choices) ?? true).map((o) => ({ id: o.id, label: o.label, description: o.describe(choices) })),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: wizard.title, placeHolder: 'Enter starts with these options; pick one to change it', ignoreFocusOut: true });
    if (!picked) return undefined;
    if (picked.id === '') return choices;
    await wizard.options.find((o) => o.id === picked.id)!.change(choices, wizard.title);
  }
}

/** The choices a wizard remembers between runs, in the user's global state. */
export class WizardMemory {
  constructor(private readonly state: vscode.Memento) {}

  recall<T extends object>(wizard: string, defaults: T): T {
    return { ...defaults, ...this.state.get<Partial<T>>(`lazyImages.wizard.${wizard}`, {}) };
  }

  async remember<T extends object>(wizard: string, choices: T): Promise<void> {
    await this.state.update(`lazyImages.wizard.${wizard}`, choices);
  }
}

/** `262144`, `256 KiB`, `4M`: bytes (0 when `zero` allows it). */
function parseSize(text: string, zero = false): number | undefined {
  const m = /^(\d+)\s*(k|kib|m|mib)?$/i.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2]?.toLowerCase().startsWith('k') ? 1024 : m[2] ? 1024 * 1024 : 1;
  const bytes = Number(m[1]) * unit;
  return Number.isSafeInteger(bytes) && (bytes > 0 || (zero && bytes === 0)) ? bytes : undefined;
}

/** Asks for a size; empty means the default (undefined), leaving keeps `current`. */
export async function askSize(title: string, what: { name: string; prompt: string; zero?: boolean }, current: number | undefined): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title: `${title}: ${what.name}`,
    prompt: what.prompt,
    value: current === undefined ? '' : String(current),
    placeHolder: '4194304, 256 KiB, 1 MiB',
    ignoreFocusOut: true,
    validateInput: (t) => (!t.trim() || parseSize(t, what.zero) !== undefined ? undefined : 'A size in bytes, KiB or MiB'),
  });
  if (text === undefined) return current;
  return text.trim() ? parseSize(text, what.zero) : undefined;
}

/** The tag proposed for a new image beside `source`: `v1-esgz`, or `<12 hex digits>-esgz` for an untagged one. */
export function proposedTag(source: ImageReference, suffix: string): string {
  return `${source.tag ?? (source.digest ? parseDigest(source.digest).hex.slice(0, 12) : 'image')}-${suffix}`;
}

/** Asks for a tag for a new image beside `source`; leaving keeps `current`. */
export async function askTag(title: string, prompt: string, current: string, problem: (tag: string) => string | undefined): Promise<string> {
  const text = await vscode.window.showInputBox({ title: `${title}: tag`, prompt, value: current, ignoreFocusOut: true, validateInput: (t) => problem(t.trim()) });
  return text === undefined ? current : text.trim();
}
