// What a COPY brings in, and what a RUN may be moved across: shared by the ordering rules.
import type { DockerInstruction } from '../model.js';

/** A COPY/ADD from the build context (not from another stage, not a URL). */
export function fromContext(ins: DockerInstruction): boolean {
  return (ins.keyword === 'COPY' || ins.keyword === 'ADD') && !ins.flags.from && ins.words.length >= 2 && !ins.words.slice(0, -1).some((s) => /^https?:\/\//.test(s));
}

/** The source paths of a COPY/ADD, without a leading `./`. */
export function sources(ins: DockerInstruction): string[] {
  return ins.words.slice(0, -1).map((s) => s.replace(/^\.\//, ''));
}

/**
 * Instructions a RUN can move above without changing what it sees. Not ENV or ARG: their values
 * reach the command's environment even unnamed (NODE_ENV=production changes what npm installs).
 */
export function movableAcross(ins: DockerInstruction): boolean {
  return ['LABEL', 'EXPOSE', 'MAINTAINER', 'STOPSIGNAL', 'HEALTHCHECK', 'CMD', 'ENTRYPOINT'].includes(ins.keyword);
}

/** A source that brings a whole tree (`.`, `*`, a folder), not named files. */
export function isTree(source: string): boolean {
  const s = source.replace(/^\.\//, '');
  if (s === '' || s === '.' || s === '*' || s.endsWith('/')) return true;
  const base = s.split('/').pop() ?? s;
  return !base.includes('.') && !base.includes('*') && !/^(Dockerfile|Makefile|Gemfile|Pipfile|LICENSE|README)$/i.test(base);
}
