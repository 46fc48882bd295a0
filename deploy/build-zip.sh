#!/usr/bin/env bash
# Builds the Config rule's Lambda function for the provided.al2023 runtime
# on arm64 and zips it as the template expects (a file named bootstrap at
# the root). Usage: deploy/build-zip.sh [OUT.zip]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-lambdawarden-config-rule.zip}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' \
  -o "$tmp/bootstrap" ./cmd/lambdawarden-config-rule
( cd "$tmp" && python3 -c 'import zipfile,sys; z=zipfile.ZipFile("f.zip","w",zipfile.ZIP_DEFLATED); i=zipfile.ZipInfo("bootstrap"); i.external_attr=0o755<<16; z.writestr(i, open("bootstrap","rb").read()); z.close()' )
mv "$tmp/f.zip" "$out"
echo "$out"
