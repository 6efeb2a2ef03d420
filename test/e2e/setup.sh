#!/usr/bin/env bash
# Installs what the end-to-end tests drive: code-server 4.100.3 (a real VS Code, Node 20) into a
# cache outside the repository, and Debian's Chromium. Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/../.."

CODE_SERVER_VERSION=4.100.3
E2E_DIR="${LAZYIMG_E2E_DIR:-$HOME/.cache/lazy-images/code-server-$CODE_SERVER_VERSION}"

missing=()
for pkg in chromium libkrb5-dev ripgrep; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "e2e: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${missing[@]}" || { apt-get update -q && apt-get install -y -q "${missing[@]}"; }
fi

if [ -x "$E2E_DIR/node_modules/.bin/code-server" ] && \
   grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$E2E_DIR/node_modules/code-server/package.json"; then
  exit 0
fi

# @vscode/ripgrep's postinstall downloads rg from GitHub, which this network cannot reach:
# seed its download cache with Debian's rg (it checks the cache before any request).
cache="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
mkdir -p "$cache"
(cd /usr/bin && tar czf "$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" rg)

mkdir -p "$E2E_DIR"
cd "$E2E_DIR"
[ -f package.json ] || echo '{"name":"lazy-images-e2e","private":true}' > package.json
echo "e2e: installing code-server@$CODE_SERVER_VERSION into $E2E_DIR (a few minutes)"
npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund --no-save "code-server@$CODE_SERVER_VERSION"
