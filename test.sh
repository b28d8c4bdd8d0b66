#!/usr/bin/env bash
# Runs every check the project has: formatting, vet, staticcheck, the
# wasm build of the wallet, and all tests (openssl interop included).
# Installs what it needs on a fresh Debian machine. Usage: ./test.sh
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "== installing ${need_apt[*]}"
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

echo "== go mod download"
go mod download

staticcheck=$(go env GOPATH)/bin/staticcheck
if [ ! -x "$staticcheck" ]; then
  echo "== installing staticcheck"
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

echo "== staticcheck"
"$staticcheck" ./...

echo "== wallet builds for the browser (GOOS=js GOARCH=wasm)"
if [ -d wallet ]; then
  GOOS=js GOARCH=wasm go build ./wallet/...
fi

echo "== go test"
go test -count=1 -timeout 20m ./...

echo "== benchmarks run once (they must not rot)"
go test -count=1 -run '^$' -bench . -benchtime 1x -timeout 20m ./... >/dev/null

echo "== all checks passed"
