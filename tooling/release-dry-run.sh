#!/usr/bin/env bash
# `pnpm release:dry-run [package …]`: everything a release does except publishing, and nothing in
# the working tree changes.
#   1. the release plan from the pending changesets (`changeset status`), and `changeset version`
#      run on a scratch copy of the package manifests, which gives each package its next version;
#   2. the packages built, and packed with `pnpm pack` into a temporary directory (pnpm turns
#      `workspace:` ranges into versions), each tarball then set to the version of the plan;
#   3. every tarball checked as npm would receive it: publint --strict, attw (node16 profile), the
#      files a user needs (package.json, README.md, LICENSE, dist/), no test files, no workspace: range.
# Arguments: package folder names (e.g. `model events`) to pack only those; default every
# package of packages/* that is not private. The tarballs are kept in $MILLWRIGHT_RELEASE_OUT when
# it is set, else removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$PWD/node_modules/.bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -v '^\.' | paste -sd: -)"
export PATH
export TURBO_TELEMETRY_DISABLED=1 TURBO_NO_UPDATE_NOTIFIER=1

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

work="$(mktemp -d -t millwright-release-XXXXXX)"
trap 'rm -rf "$work"' EXIT
out="${MILLWRIGHT_RELEASE_OUT:-$work/tarballs}"
mkdir -p "$out"

# The packages to release: the arguments, or every non-private package of packages/*.
if [ "$#" -gt 0 ]; then
  packages=("$@")
else
  mapfile -t packages < <(node -e '
    const fs = require("node:fs");
    for (const d of fs.readdirSync("packages").sort()) {
      const file = `packages/${d}/package.json`;
      if (fs.existsSync(file) && JSON.parse(fs.readFileSync(file, "utf8")).private !== true) console.log(d);
    }')
fi
for p in "${packages[@]}"; do [ -f "packages/$p/package.json" ] || fail "no package packages/$p"; done

step "changesets: pending changesets and the release plan"
changeset status --output "$work/plan.json" >/dev/null
# `changeset version` writes versions, changelogs and deletes the changesets: run it on a copy of
# the manifests and the changesets only, never on the working tree.
mkdir -p "$work/plan-tree/packages"
cp package.json pnpm-workspace.yaml "$work/plan-tree/"
cp -r .changeset "$work/plan-tree/"
for d in packages/*/ examples/*/ bench/; do
  d="${d%/}"
  [ -f "$d/package.json" ] || continue
  mkdir -p "$work/plan-tree/$d" && cp "$d/package.json" "$work/plan-tree/$d/"
done
(cd "$work/plan-tree" && git init -q && changeset version >/dev/null)
node -e '
  const fs = require("node:fs");
  const [plan, tree] = process.argv.slice(1);
  const { changesets, releases } = JSON.parse(fs.readFileSync(plan, "utf8"));
  console.log(`${changesets.length} pending changesets`);
  const versions = {};
  for (const d of fs.readdirSync(`${tree}/packages`)) {
    const p = JSON.parse(fs.readFileSync(`${tree}/packages/${d}/package.json`, "utf8"));
    versions[p.name] = p.version;
  }
  for (const r of releases.filter((r) => r.type !== "none")) {
    if (versions[r.name] !== undefined && versions[r.name] !== r.newVersion) throw new Error(`${r.name}: changeset status plans ${r.newVersion}, changeset version wrote ${versions[r.name]}`);
    console.log(`  ${r.name.padEnd(28)} ${r.oldVersion} -> ${r.newVersion} (${r.type})`);
  }
  fs.writeFileSync(`${tree}/versions.json`, JSON.stringify(versions));
' "$work/plan.json" "$work/plan-tree"

step "build: ${packages[*]}"
filters=()
for p in "${packages[@]}"; do filters+=("--filter=./packages/$p"); done
turbo run build "${filters[@]}" --output-logs=errors-only

step "pack: one tarball per package, at the planned version, into $out"
for p in "${packages[@]}"; do
  (cd "packages/$p" && pnpm pack --pack-destination "$work/packed" >/dev/null)
done
# pnpm pack has replaced workspace: ranges with the current versions; set the planned ones.
node -e '
  const fs = require("node:fs");
  const { execFileSync } = require("node:child_process");
  const [packed, out, versionsFile] = process.argv.slice(1);
  const versions = JSON.parse(fs.readFileSync(versionsFile, "utf8"));
  for (const file of fs.readdirSync(packed).filter((f) => f.endsWith(".tgz")).sort()) {
    const dir = fs.mkdtempSync(`${packed}/x-`);
    execFileSync("tar", ["-xzf", `${packed}/${file}`, "-C", dir]);
    const manifest = `${dir}/package/package.json`;
    const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
    const next = versions[pkg.name] ?? pkg.version;
    pkg.version = next;
    for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [name, range] of Object.entries(pkg[field] ?? {})) {
        if (range.startsWith("workspace:")) throw new Error(`${pkg.name}: ${field}.${name} is still ${range} after pnpm pack`);
        const target = versions[name];
        if (target !== undefined) pkg[field][name] = (/^[\^~]/.exec(range)?.[0] ?? "") + target;
      }
    }
    fs.writeFileSync(manifest, `${JSON.stringify(pkg, null, 2)}\n`);
    const name = `${pkg.name.replace(/^@/, "").replace("/", "-")}-${next}.tgz`;
    execFileSync("tar", ["-czf", `${out}/${name}`, "-C", dir, "package"]);
    fs.rmSync(dir, { recursive: true });
  }
' "$work/packed" "$out" "$work/plan-tree/versions.json"

step "check each tarball: contents, publint --strict, attw"
failed=0
for tgz in "$out"/*.tgz; do
  name="$(basename "$tgz")"
  files="$(tar -tzf "$tgz")"
  size="$(du -k "$tgz" | cut -f1)"
  problems=()
  for need in package/package.json package/README.md package/LICENSE; do
    grep -qx "$need" <<<"$files" || problems+=("missing ${need#package/}")
  done
  grep -q '^package/dist/' <<<"$files" || problems+=("no dist/")
  ! grep -Eq '\.test(-d)?\.ts$' <<<"$files" || problems+=("contains test files")
  printf '%-48s %5s KB %4s files' "$name" "$size" "$(wc -l <<<"$files")"
  if [ "${#problems[@]}" -gt 0 ]; then
    printf '  \033[31m%s\033[0m\n' "$(IFS=';'; echo "${problems[*]}")"
    failed=1
    continue
  fi
  if ! lint="$(publint run "$tgz" --strict 2>&1)"; then
    printf '  \033[31mpublint failed\033[0m\n%s\n' "$lint"
    failed=1
    continue
  fi
  if ! types="$(attw "$tgz" --profile node16 --format table-flipped 2>&1)"; then
    printf '  \033[31mattw failed\033[0m\n%s\n' "$types"
    failed=1
    continue
  fi
  printf '  publint ok, attw ok\n'
done
[ "$failed" -eq 0 ] || fail "some tarballs are not ready to publish"

step "dry run complete: nothing was published (publish with \`changeset publish\` in the release job)"
if [ -n "${MILLWRIGHT_RELEASE_OUT:-}" ]; then echo "tarballs kept in $out"; fi
