// Lazy-loading rules: what decides how well an image starts before it is downloaded.
import { posix } from 'node:path';
import { firstLineRange, type Finding, type Rule, type RuleContext } from '../findings.js';
import type { DockerInstruction } from '../model.js';
import { fromContext, sources } from './copies.js';

const ASSET = /(^|\/)(models?|weights|checkpoints|datasets?)(\/|$)|\.(bin|onnx|pt|pth|safetensors|gguf|ckpt|h5|tflite|pb|npz)$/i;

/** large-assets-with-code: cold data and the program in one layer. */
export const assetsWithCode: Rule = {
  id: 'large-assets-with-code',
  group: 'lazy',
  check({ model }: RuleContext): Finding[] {
    const final = model.stages.at(-1);
    if (!final) return [];
    return final.instructions.filter(fromContext).flatMap((ins) => {
      const src = sources(ins);
      const assets = src.filter((s) => ASSET.test(s));
      if (!assets.length || assets.length === src.length) return [];
      return [{
        ruleId: assetsWithCode.id, group: 'lazy', severity: 'hint', range: firstLineRange(model, ins),
        message: `Large assets (${assets.join(', ')}) share a layer with application files`,
        rationale: 'Copy models and data in their own layer, before the application: a lazy pull then fetches the program without the assets, and SOCI (4 MiB spans) or eStargz (per-file chunks) read the assets only when opened. Only ~6% of image data is read at start-up (Slacker, FAST \'16).',
        source: 'specs: soci-snapshotter span model; Harter et al., FAST \'16',
      }];
    });
  },
};

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Shell-form CMD/ENTRYPOINT: its words, as `sh -c` would split simple ones. */
function argv(ins: DockerInstruction): string[] {
  return ins.jsonForm ? ins.words : ins.args.split(/\s+/).filter(Boolean);
}

/**
 * The files the entrypoint starts with: what eStargz should put first and prefetch. Paths that
 * cannot be known here (a variable, a program found on PATH but not copied in) are left out.
 */
export function entrypointFiles(instructions: DockerInstruction[]): string[] {
  let workdir: string | undefined = '/';
  let entry: string[] = [];
  let cmd: string[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'WORKDIR' && ins.words[0] && workdir !== undefined) {
      const dir = ins.words[0].replace(/^["']|["']$/g, '');
      workdir = dir.includes('$') ? undefined : posix.resolve(workdir, dir);
    }
    if (ins.keyword === 'ENTRYPOINT') entry = argv(ins);
    if (ins.keyword === 'CMD') cmd = argv(ins);
  }
  const [program, ...args] = [...entry, ...cmd].filter((a) => !a.includes('$'));
  const files: string[] = [];
  if (program?.startsWith('/')) files.push(program);
  else if (program && !program.includes('/')) {
    // Found on PATH: known only if the Dockerfile copies it into a PATH folder.
    const copied = instructions.filter((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && i.words.slice(0, -1).some((s) => s.split('/').pop() === program));
    const target = copied.map((i) => i.words.at(-1) ?? '').map((d) => (d.endsWith('/') ? `${d}${program}` : d)).find((p) => PATH_DIRS.includes(posix.dirname(p)));
    if (target) files.push(target);
  }
  // A script for `sh -c` arrives as one argument: its words name the files, its operators none.
  const words = args.flatMap((a) => (/\s/.test(a) ? a.split(/\s+/).filter((w) => w && !/^(&&|\|\||;|\||&)$/.test(w)) : [a]));
  for (const a of words) {
    if (a.startsWith('-') || !(a.startsWith('/') || /\.(js|mjs|cjs|py|sh|jar|rb|php)$/.test(a))) continue;
    if (a.startsWith('/')) files.push(a);
    else if (workdir !== undefined) files.push(posix.resolve(workdir, a));
  }
  return [...new Set(files)];
}

/** estargz-prioritize: an ENTRYPOINT/CMD whose files can be prioritized in eStargz layers. */
export const prioritizeEntrypoint: Rule = {
  id: 'estargz-prioritize',
  group: 'lazy',
  check({ model }: RuleContext): Finding[] {
    const final = model.stages.at(-1);
    const start = final?.instructions.filter((i) => i.keyword === 'ENTRYPOINT' || i.keyword === 'CMD').at(-1);
    if (!final || !start) return [];
    const files = entrypointFiles(final.instructions);
    if (!files.length) return [];
    return [{
      ruleId: prioritizeEntrypoint.id, group: 'lazy', severity: 'hint', range: firstLineRange(model, start),
      message: `eStargz can put the files this starts with first and prefetch them: ${files.join(', ')}`,
      rationale: 'Prioritized files sit at the head of each eStargz layer, before the landmark, and the snapshotter fetches that range in one request before the container starts, instead of one on-demand fetch per file. Use the list with `convert --prioritize-file`; `ctr-remote image optimize` finds more by running the workload.',
      source: 'stargz-snapshotter docs/estargz.md, Prioritized Files and Landmark Files',
      files,
    }];
  },
};
