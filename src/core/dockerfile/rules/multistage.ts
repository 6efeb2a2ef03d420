// build-tools-in-final: compilers and SDKs that only the build needs, left in the final stage,
// ship with every pull. A multi-stage build keeps them in a stage that is thrown away.
import { firstLineRange, type Finding, type Rule, type RuleContext } from '../findings.js';
import type { DockerInstruction } from '../model.js';
import { runCommand, simpleCommands, words } from '../shell.js';

const TOOLCHAIN = /^(build-essential|gcc(-\d+)?|g\+\+(-\d+)?|clang(-\d+)?|make|cmake|ninja-build|autoconf|automake|libtool|golang(-go)?|maven|gradle|cargo|rustc|default-jdk|openjdk-\d+-jdk(-headless)?)$/;
/** Headers count only next to a compiler: alone, a `-dev` package may be needed at run time. */
const HEADERS = /^(musl-dev|libc6?-dev|linux-headers|pkg-config|python3?-dev|[a-z0-9.+-]+-dev(el)?)$/;
const SDK_IMAGES = /^(docker\.io\/)?(library\/)?(golang|maven|gradle|rust|openjdk|eclipse-temurin:[^-]*-jdk|mcr\.microsoft\.com\/dotnet\/sdk)(:|$)/;
/** A simple command that builds something (its first words). */
function builds(w: string[]): boolean {
  const [a, b, c] = w;
  return (a === 'go' && b === 'build') || (/mvnw?$/.test(a ?? '') && w.some((x) => /^(package|install|verify)$/.test(x))) || (/gradlew?$/.test(a ?? '') && w.some((x) => /^(build|assemble)$/.test(x)))
    || (a === 'cargo' && b === 'build') || (a === 'npm' && b === 'run' && c === 'build') || (a === 'yarn' && b === 'build') || (a === 'dotnet' && (b === 'publish' || b === 'build')) || a === 'make';
}

function runsBuild(ins: DockerInstruction): boolean {
  return simpleCommands(runCommand(ins)).map(words).some(builds);
}

export const buildToolsInFinal: Rule = {
  id: 'build-tools-in-final',
  group: 'multistage',
  check({ model }: RuleContext): Finding[] {
    const final = model.stages.at(-1);
    if (!final) return [];
    // A toolchain image (golang, gcc) ships its compilers on purpose: it builds nothing itself.
    const buildsHere = final.instructions.some((i) => (i.keyword === 'COPY' || i.keyword === 'ADD') && !i.flags.from) || final.instructions.some(runsBuild);
    if (!buildsHere) return [];
    const findings: Finding[] = [];
    for (const ins of final.instructions) {
      const command = runCommand(ins);
      if (!command) continue;
      const commands = simpleCommands(command).map(words);
      // Build dependencies removed in the same RUN (`apk del .build-deps`) never reach a layer.
      if (commands.some((w) => (w[0] === 'apk' && w[1] === 'del') || (/^apt(-get)?$/.test(w[0] ?? '') && ['purge', 'remove', 'autoremove'].includes(w[1] ?? '')) || (/^(dnf|yum)$/.test(w[0] ?? '') && ['remove', 'erase'].includes(w[1] ?? '')))) continue;
      const packages = commands.filter((w) => /^(apt(-get)?|apk|dnf|yum|microdnf)$/.test(w[0] ?? '') && (w.includes('install') || w.includes('add'))).flatMap((w) => w.slice(1));
      const compilers = packages.filter((x) => TOOLCHAIN.test(x));
      const installed = compilers.length ? [...compilers, ...packages.filter((x) => HEADERS.test(x))] : [];
      if (installed.length) {
        findings.push({
          ruleId: buildToolsInFinal.id, group: 'multistage', severity: 'information', range: firstLineRange(model, ins),
          message: `Build tools (${[...new Set(installed)].slice(0, 4).join(', ')}) stay in the final image`,
          rationale: 'Build in an earlier stage and `COPY --from` it only what runs: the compilers and headers never ship, and lazy pulls have less to fetch. Not fixed automatically: which files the program needs at run time is not visible here.',
          source: 'docs.docker.com/build/building/best-practices/#use-multi-stage-builds',
        });
      }
    }
    if (model.stages.length === 1 && SDK_IMAGES.test(final.image)) {
      const build = final.instructions.find(runsBuild);
      if (build) {
        findings.push({
          ruleId: buildToolsInFinal.id, group: 'multistage', severity: 'information', range: firstLineRange(model, final.from),
          message: `The image ships the whole ${final.image} SDK it builds with`,
          rationale: 'Build in this stage, then start a second stage from a small runtime image and `COPY --from` the build output into it.',
          source: 'docs.docker.com/build/building/best-practices/#use-multi-stage-builds',
        });
      }
    }
    return findings;
  },
};
