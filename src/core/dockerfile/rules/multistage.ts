// build-tools-in-final: compilers and SDKs that only the build needs, left in the final stage,
// ship with every pull. A multi-stage build keeps them in a stage that is thrown away.
import { firstLineRange, type Finding, type Rule, type RuleContext } from '../findings.js';
import { runCommand, simpleCommands, words } from '../shell.js';

const BUILD_PACKAGES = /^(build-essential|gcc(-\d+)?|g\+\+(-\d+)?|clang(-\d+)?|make|cmake|ninja-build|autoconf|automake|libtool|pkg-config|golang(-go)?|maven|gradle|cargo|rustc|default-jdk|openjdk-\d+-jdk(-headless)?|musl-dev|libc6?-dev|linux-headers|python3?-dev|[a-z0-9.+-]+-dev(el)?)$/;
const SDK_IMAGES = /^(docker\.io\/)?(library\/)?(golang|maven|gradle|rust|openjdk|eclipse-temurin:[^-]*-jdk|mcr\.microsoft\.com\/dotnet\/sdk)(:|$)/;
const BUILD_COMMANDS = /\b(go build|mvn\S* (package|install|verify)|gradlew? (build|assemble)|cargo build|npm run build|yarn build|dotnet (publish|build)|make( |$))/;

export const buildToolsInFinal: Rule = {
  id: 'build-tools-in-final',
  group: 'multistage',
  check({ model }: RuleContext): Finding[] {
    const final = model.stages.at(-1);
    if (!final) return [];
    const findings: Finding[] = [];
    for (const ins of final.instructions) {
      const command = runCommand(ins);
      if (!command) continue;
      const commands = simpleCommands(command).map(words);
      // Build dependencies removed in the same RUN (`apk del .build-deps`) never reach a layer.
      if (commands.some((w) => (w[0] === 'apk' && w[1] === 'del') || (/^apt(-get)?$/.test(w[0] ?? '') && ['purge', 'remove', 'autoremove'].includes(w[1] ?? '')) || (/^(dnf|yum)$/.test(w[0] ?? '') && ['remove', 'erase'].includes(w[1] ?? '')))) continue;
      const installed = commands.filter((w) => /^(apt(-get)?|apk|dnf|yum|microdnf)$/.test(w[0] ?? '') && (w.includes('install') || w.includes('add'))).flatMap((w) => w.filter((x) => BUILD_PACKAGES.test(x)));
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
      const build = final.instructions.find((i) => BUILD_COMMANDS.test(runCommand(i)));
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
