// Batches from the tree: Convert Many... and Index Many... on several selected tags (or a
// repository's tags matching a glob) run one batch on the worker, each shared layer done once with
// the layer cache; Export as Kubernetes Job... writes the same plan and an Indexed Job that runs it
// into a workspace folder.
import { join } from 'node:path';
import * as vscode from 'vscode';
import { kubernetesJob } from '../../core/batch/index.js';
import { count } from '../../core/format.js';
import { formatReference, parseReference, type ImageReference } from '../../core/oci/index.js';
import type { BatchResult } from '../../worker/protocol.js';
import type { Report } from '../reports/ReportDocuments.js';
import { escapeMarkdown } from '../tree/render.js';
import { imageParentId, type Node } from '../tree/nodes.js';
import { batchOutcome, batchPlan, planYaml, type BatchChoices, type BatchSelection } from './batchPlan.js';
import { askConvertOptions } from './convertOptions.js';
import type { CommandDeps } from './deps.js';
import { jobParams, storeName } from './jobParams.js';
import { askSociOptions } from './sociOptions.js';

/** What the batch works on, with the first image (for the wizards' defaults) and a few words for it. */
interface Picked {
  selection: BatchSelection;
  first: ImageReference;
  what: string;
}

/** What a batch makes, as the final notification counts it. */
interface Made {
  choices: BatchChoices;
  one: string;
  many: string;
}

const GLOB = /^[A-Za-z0-9_.*?-]+$/;
/** A retried shard is retried this many times by Kubernetes before the Job counts it failed. */
const BACKOFF_LIMIT_PER_INDEX = 2;

export function batchCommands({ services, jobs, tree, memory }: CommandDeps, storage: vscode.Uri, version: string) {
  /** The tagged images selected (VS Code passes the clicked node and the whole selection), or a repository and a tag glob. */
  const picked = async (node: Node | undefined, nodes: Node[] | undefined, title: string): Promise<Picked | undefined> => {
    const rows = nodes?.length ? nodes : node ? [node] : [];
    // In name order, not click order: the same selection makes the same plan.
    const images = rows.flatMap((n) => (n.kind === 'image' && n.ref.tag !== undefined ? [n.ref] : []))
      .sort((a, b) => formatReference(a).localeCompare(formatReference(b), 'en', { numeric: true }));
    if (images.length) return { selection: { kind: 'images', images }, first: images[0]!, what: count(images.length, 'image') };
    const repository = rows.find((n): n is Extract<Node, { kind: 'repository' }> => n.kind === 'repository');
    if (!repository) {
      void vscode.window.showInformationMessage(`${title}: select tags in the Lazy Images view (Ctrl+click for several), or a repository.`);
      return undefined;
    }
    const tags = await vscode.window.showInputBox({
      title: `${title}: ${repository.host}/${repository.repository}`,
      prompt: 'Which tags: a pattern where * is any text and ? any one character',
      value: '*',
      ignoreFocusOut: true,
      validateInput: (t) => (GLOB.test(t.trim()) ? undefined : 'Letters, digits, _ . - and the wildcards * and ?'),
    });
    if (tags === undefined) return undefined;
    return {
      selection: { kind: 'repository', registry: repository.host, repository: repository.repository, tags: tags.trim() },
      first: { kind: 'registry', registry: repository.host, repository: repository.repository, tag: 'latest' },
      what: `the tags ${tags.trim()} of ${repository.repository}`,
    };
  };

  const askEstargz = async (p: Picked): Promise<Made | undefined> => {
    const c = await askConvertOptions(p.first, [], memory, false, undefined, p.what);
    if (!c) return undefined;
    return {
      choices: { operation: 'estargz', destination: c.tagRule, allPlatforms: c.allPlatforms, estargz: { level: c.level, chunkSize: c.chunkSize, prioritized: c.prioritized } },
      one: 'eStargz image', many: 'eStargz images',
    };
  };

  const askSoci = async (p: Picked): Promise<Made | undefined> => {
    const c = await askSociOptions(p.first, memory, p.what);
    if (!c) return undefined;
    const soci = { spanSize: c.spanSize, minLayerSize: c.minLayerSize };
    // v1 attaches each index to its source: no new tag, so no rule.
    if (c.version === 'v1') return { choices: { operation: 'soci-v1', allPlatforms: c.allPlatforms, soci }, one: 'SOCI v1 index', many: 'SOCI v1 indexes' };
    return { choices: { operation: 'soci-v2', destination: c.tagRule, allPlatforms: c.allPlatforms, soci }, one: 'SOCI image', many: 'SOCI images' };
  };

  /** The layer cache: the user's (or machine's) setting, never a workspace's; by default a layout in global storage. */
  const cache = async (): Promise<string> => {
    const configured = configuredCache();
    if (configured) return configured;
    await vscode.workspace.fs.createDirectory(storage);
    return `oci:${join(storage.fsPath, 'batch-cache')}`;
  };

  const run = async (p: Picked, made: Made, verb: string): Promise<void> => {
    const plan = batchPlan(p.selection, made.choices);
    const layerCache = await cache();
    const refs = [...(p.selection.kind === 'images' ? p.selection.images : [p.first]), ...registryOf(layerCache)];
    const { record, result } = await jobs.runJob<BatchResult>('batch', {
      title: `${verb} ${p.what}`,
      label: `${verb} ${p.what}`,
      where: storeName(p.first),
      images: p.selection.kind === 'images' ? p.selection.images.length : undefined,
      summarize: (r) => batchOutcome(r, made.one, made.many).message,
      report: (r) => batchReport(`${verb} ${p.what}`, r, made, layerCache),
    }, { plan, cache: layerCache, ...(await jobParams(services, refs)) });
    if (!result) return;
    for (const parent of new Set(refs.map(imageParentId))) tree.refresh(parent); // the new tags sit beside their sources
    const { message, failed } = batchOutcome(result, made.one, made.many);
    void jobs.tell(record, failed ? 'warning' : 'info', `${message}.`);
  };

  return {
    async convertMany(node?: Node, nodes?: Node[]): Promise<void> {
      const p = await picked(node, nodes, 'Convert Many');
      const made = p && await askEstargz(p);
      if (p && made) await run(p, made, 'Convert');
    },

    async indexMany(node?: Node, nodes?: Node[]): Promise<void> {
      const p = await picked(node, nodes, 'Index Many');
      const made = p && await askSoci(p);
      if (p && made) await run(p, made, 'Index');
    },

    /** The plan and an Indexed Job running it (kubernetesJob), written into a workspace folder and opened. */
    async exportKubernetesJob(node?: Node, nodes?: Node[]): Promise<void> {
      const title = 'Export as Kubernetes Job';
      const p = await picked(node, nodes, title);
      if (!p) return;
      const operation = await vscode.window.showQuickPick([
        { label: 'Index for SOCI', description: 'SOCI v2 (or v1) indexes', ask: askSoci },
        { label: 'Convert to eStargz', description: 'eStargz images beside the sources', ask: askEstargz },
      ], { title: `${title}: what the Job does`, ignoreFocusOut: true });
      const made = operation && await operation.ask(p);
      if (!made) return;
      const folder = await workspaceFolder(title);
      if (!folder) return;
      const image = await vscode.window.showInputBox({
        title: `${title}: image`, prompt: 'The lazyimg image each pod runs (npm run image builds one)', value: `lazyimg:${version}`, ignoreFocusOut: true,
        validateInput: (t) => (t.trim() && !/\s/.test(t.trim()) ? undefined : 'An image reference'),
      });
      if (image === undefined) return;
      const completions = await askCount(`${title}: completions`, 'Shards: the plan is split into this many parts, one pod each', 3);
      if (completions === undefined) return;
      const parallelism = await askCount(`${title}: parallelism`, `Shards running at once (at most ${completions})`, Math.min(2, completions), completions);
      if (parallelism === undefined) return;

      const planText = planYaml(batchPlan(p.selection, made.choices));
      const sources = p.selection.kind === 'images' ? p.selection.images : [p.first];
      // A registry on the loopback is reached from a pod only through the host's network.
      const hostNetwork = sources.some((r) => r.kind === 'registry' && /^(localhost|127\.[\d.]+|\[::1\])(:\d+)?$/.test(r.registry));
      const layerCache = configuredCache();
      const manifest = kubernetesJob({
        planText, image: image.trim(), completions, parallelism, backoffLimitPerIndex: BACKOFF_LIMIT_PER_INDEX, name: 'lazyimg-batch',
        ...(hostNetwork ? { hostNetwork } : {}),
        // Pods cannot reach a layout on this machine: only a registry cache goes into the Job.
        ...(layerCache && registryOf(layerCache).length ? { cache: layerCache } : {}),
      });
      const dir = vscode.Uri.joinPath(folder.uri, 'lazyimg-batch');
      const files = [vscode.Uri.joinPath(dir, 'plan.yaml'), vscode.Uri.joinPath(dir, 'job.yaml')];
      if (!(await mayReplace(files))) return;
      await vscode.workspace.fs.createDirectory(dir);
      await vscode.workspace.fs.writeFile(files[0]!, Buffer.from(planText));
      await vscode.workspace.fs.writeFile(files[1]!, Buffer.from(manifest));
      for (const file of files) await vscode.window.showTextDocument(file, { preview: false });
      void vscode.window.showInformationMessage(`Wrote ${vscode.workspace.asRelativePath(files[0]!)} and ${vscode.workspace.asRelativePath(files[1]!)}: an Indexed Job of ${count(completions, 'shard')}, ${parallelism} at once${hostNetwork ? ', on the host\'s network (the registry is on the loopback)' : ''}. Apply it with kubectl apply -f.`);
    },
  };
}

/** `lazyImages.batch.cache` from the user's or the machine's settings only: a workspace must not send layers elsewhere. */
function configuredCache(): string | undefined {
  const value = vscode.workspace.getConfiguration('lazyImages.batch').inspect<string>('cache')?.globalValue?.trim();
  return value || undefined;
}

/** The cache as a reference whose registry needs credentials; none for a layout. */
function registryOf(cache: string): ImageReference[] {
  if (cache.startsWith('oci:')) return [];
  try {
    return [parseReference(cache)];
  } catch {
    return []; // the worker says what is wrong with it
  }
}

async function workspaceFolder(title: string): Promise<vscode.WorkspaceFolder | undefined> {
  const folders = vscode.workspace.workspaceFolders ?? [];
  if (folders.length === 0) {
    void vscode.window.showErrorMessage(`${title}: open a folder first; the plan and the Job are written into it.`);
    return undefined;
  }
  return folders.length === 1 ? folders[0] : vscode.window.showWorkspaceFolderPick({ placeHolder: `${title}: the folder to write lazyimg-batch/ into` });
}

/** A whole number from 1 to `max`; empty means `fallback`. */
async function askCount(title: string, prompt: string, fallback: number, max = 1000): Promise<number | undefined> {
  const text = await vscode.window.showInputBox({
    title, prompt: `${prompt}. Empty: ${fallback}.`, placeHolder: String(fallback), ignoreFocusOut: true,
    validateInput: (t) => (!t.trim() || (/^\d+$/.test(t.trim()) && Number(t) >= 1 && Number(t) <= max) ? undefined : `A whole number from 1 to ${max}`),
  });
  if (text === undefined) return undefined;
  return text.trim() ? Number(text.trim()) : fallback;
}

/** True when none of the files exists, or the user agrees to replace them. */
async function mayReplace(files: vscode.Uri[]): Promise<boolean> {
  const existing = (await Promise.all(files.map((f) => vscode.workspace.fs.stat(f).then(() => f, () => undefined)))).filter((f): f is vscode.Uri => f !== undefined);
  if (existing.length === 0) return true;
  const names = existing.map((f) => vscode.workspace.asRelativePath(f)).join(' and ');
  return (await vscode.window.showWarningMessage(`${names} exist. Replace them?`, { modal: true }, 'Replace')) === 'Replace';
}

/** Show Result of a batch job: what it made, then a row per item. */
function batchReport(title: string, result: BatchResult, made: Made, cache: string): Report {
  const { summary } = result;
  const rows = result.events.flatMap((e) => (e.type === 'item' ? [
    `| ${code(e.source)} | ${code(e.destination)} | ${e.outcome}${e.error ? `: ${escapeMarkdown(e.error.message)}` : ''} | ${e.layers.built} | ${e.layers.reused} | ${e.layers.skipped} | ${e.seconds.toFixed(1)} |`,
  ] : []));
  const markdown = [
    `# ${escapeMarkdown(title)}`, '',
    `**${escapeMarkdown(batchOutcome(result, made.one, made.many).message)}.** ${count(summary.distinctLayers, 'distinct source layer')}; ${summary.layersBuilt} built, ${summary.layersReused} reused; ${summary.seconds.toFixed(1)} s. Layer cache: ${code(cache)}.`, '',
    '| source | destination | outcome | layers built | reused | no zTOC | seconds |', '|---|---|---|---|---|---|---|', ...rows, '',
  ].join('\n');
  return { title: `batch ${title}`, subject: `batch:${title}:${summary.seconds}`, markdown };
}

/** A reference as inline code: read as is, never as Markdown. */
function code(text: string): string {
  return `\`${text.replace(/[`|]/g, ' ')}\``;
}
