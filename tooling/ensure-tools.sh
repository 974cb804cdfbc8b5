#!/usr/bin/env bash
# Obtains the outside tools the tests use, when they are missing and this user may install them:
# Debian's chromium (the HTML report renders in it) and the toolchains generated code is compiled
# and round-tripped with (packages/cli/test/codegen.test.ts): golang-go (go build, go vet, gofmt),
# a JDK with Debian's Jackson (javac), Mono's C# compiler and runtime with Newtonsoft.Json, and
# mypy. Elsewhere it says what to install; the tests that need a missing tool then fail loudly with
# the same advice, never skip.
#   MILLWRIGHT_NO_INSTALL=1  never install, only report
set -uo pipefail

# tool (command or file to find) -> Debian package, and the variable that may name the binary instead.
missing=()
need() {
  local command=$1 package=$2 override=${3:-}
  if [ -n "$override" ] && [ -n "${!override:-}" ]; then
    [ -x "${!override}" ] && return 0
    echo "tools: $override=${!override} is not an executable file" >&2
    return 0
  fi
  command -v "$command" >/dev/null 2>&1 || missing+=("$package")
}
need_file() {
  local pattern=$1 package=$2
  compgen -G "$pattern" >/dev/null || missing+=("$package")
}
need chromium chromium MILLWRIGHT_CHROMIUM
need go golang-go
need javac default-jdk-headless
need_file "/usr/share/java/jackson-databind.jar" libjackson2-databind-java
need mcs mono-mcs
need mono mono-runtime
need_file "/usr/lib/cli/Newtonsoft.Json*/Newtonsoft.Json.dll" libnewtonsoft-json-cil-dev
need mypy mypy

[ "${#missing[@]}" -eq 0 ] && { echo "tools: chromium, go, javac + Jackson, mcs + mono + Newtonsoft.Json and mypy are present"; exit 0; }

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then as_root=(sudo -n); else as_root=(); fi
fi
may_install() { [ "${MILLWRIGHT_NO_INSTALL:-0}" != "1" ] && command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || [ "${#as_root[@]}" -gt 0 ]; }; }

if may_install; then
  echo "tools: installing Debian's ${missing[*]} for the tests that need them"
  if "${as_root[@]}" apt-get update -qq && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null; then
    echo "tools: installed ${missing[*]}"
    exit 0
  fi
  echo "tools: apt-get could not install ${missing[*]}; the tests that need them will fail" >&2
  exit 0
fi
echo "tools: missing ${missing[*]} and cannot install them here (needs root or passwordless sudo with apt-get)." >&2
echo "tools: install them yourself (Debian/Ubuntu: apt-get install ${missing[*]}; elsewhere a Chrome/Chromium" >&2
echo "tools: binary in MILLWRIGHT_CHROMIUM, and Go, a JDK with Jackson, Mono with Newtonsoft.Json and mypy from their projects);" >&2
echo "tools: the tests that need them will fail until then." >&2
exit 0
