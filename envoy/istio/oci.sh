#!/bin/sh
# npm run oci -- IMAGE [--push] [--oras]
#
# Packages build/shadowmesh.wasm as an OCI image Istio's WasmPlugin can pull.
#   default  docker buildx, FROM scratch with plugin.wasm (envoy/istio/Dockerfile),
#            always linux/amd64 and without provenance attestations, so the pushed
#            reference is one plain image manifest wherever it is built.
#            Without --push the image is loaded into the local Docker.
#   --oras   oras push, no Docker needed: the Wasm artifact with its own media
#            types (a runtime-config.json layer and a plugin.wasm layer); always pushes.
set -eu

usage() {
  echo "usage: npm run oci -- IMAGE[:TAG] [--push] [--oras]" >&2
  exit 2
}

image=""
push=0
tool=buildx
for arg in "$@"; do
  case "$arg" in
    --push) push=1 ;;
    --oras) tool=oras ;;
    -h|--help) usage ;;
    -*) echo "oci: unknown option $arg" >&2; usage ;;
    *) [ -z "$image" ] || usage; image="$arg" ;;
  esac
done
[ -n "$image" ] || usage

root=$(cd "$(dirname "$0")/../.." && pwd)
wasm="$root/build/shadowmesh.wasm"
if [ ! -f "$wasm" ]; then
  echo "oci: $wasm is missing; run npm run build:wasm first" >&2
  exit 1
fi

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "oci: $1 is not installed ($2)" >&2; exit 1; }
}

if [ "$tool" = buildx ]; then
  need docker "https://docs.docker.com/build/"
  if [ "$push" = 1 ]; then output=--push; else output=--load; fi
  docker buildx build \
    --platform linux/amd64 \
    --provenance=false \
    -f "$root/envoy/istio/Dockerfile" \
    -t "$image" \
    "$output" \
    "$root"
else
  need oras "https://oras.land/docs/installation"
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp "$wasm" "$work/plugin.wasm"
  printf '{"type":"envoy_proxy","abi_version":"proxy_abi_version_0_2_1","config":{"root_ids":["shadowmesh"]}}\n' > "$work/runtime-config.json"
  # Istio's fetcher reads this variant as exactly two layers and takes the one
  # with the Wasm content media type.
  (cd "$work" && oras push "$image" \
    runtime-config.json:application/vnd.module.wasm.config.v1+json \
    plugin.wasm:application/vnd.module.wasm.content.layer.v1+wasm)
fi
echo "oci: $image ($tool)"
