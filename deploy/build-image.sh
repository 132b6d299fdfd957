#!/usr/bin/env bash
# Builds the grader image of deploy/Containerfile without a daemon and without a registry:
# the same contents (the kubelab binary at /usr/local/bin, the course at /course, user
# 65532, kubelab as the entrypoint) from a binary already built, with umoci (Debian:
# `apt-get install umoci`). The image is FROM scratch plus the shared libraries the binary
# links (taken from the build machine, so the image runs what was built and tested there).
#
#   deploy/build-image.sh target/release/kubelab kubelab.tar [NAME]
#   ctr -n k8s.io images import kubelab.tar          # containerd (kind: kind load image-archive)
#
# NAME defaults to docker.io/library/kubelab:latest, the image deploy/grade-job.yaml runs.
# The binary's debug information is stripped in the image (its symbols stay: backtraces keep
# function names). The output is an OCI archive; `ctr images import` names it NAME.
set -euo pipefail

binary=${1:?usage: build-image.sh BINARY OUT.tar [NAME]}
out=${2:?usage: build-image.sh BINARY OUT.tar [NAME]}
name=${3:-docker.io/library/kubelab:latest}
course=$(cd "$(dirname "$0")/.." && pwd)

for tool in umoci objcopy ldd tar; do
  command -v "$tool" >/dev/null || { echo "build-image.sh: $tool is missing (apt-get install umoci binutils)" >&2; exit 1; }
done
[ -x "$binary" ] || { echo "build-image.sh: $binary is not an executable (cargo build --release first)" >&2; exit 1; }
[ -d "$course/units" ] || { echo "build-image.sh: no course at $course/units" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tag=${name##*:}
umoci init --layout "$work/oci"
umoci new --image "$work/oci:$tag"
umoci unpack --image "$work/oci:$tag" "$work/bundle" >/dev/null
root="$work/bundle/rootfs"

mkdir -p "$root/usr/local/bin" "$root/course" "$root/tmp"
chmod 1777 "$root/tmp"
objcopy --strip-debug "$binary" "$root/usr/local/bin/kubelab"
# The dynamic loader and every library the binary links, at the paths it asks for.
ldd "$binary" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
cp -r "$course/units" "$root/course/units"
if [ -d "$course/checks" ]; then cp -r "$course/checks" "$root/course/checks"; fi

# repack first: it writes the configuration unpack saw.
umoci repack --image "$work/oci:$tag" "$work/bundle"
umoci config --image "$work/oci:$tag" --config.user 65532:65532 \
  --config.entrypoint /usr/local/bin/kubelab --config.workingdir /tmp \
  --config.label org.opencontainers.image.title=kubelab
umoci gc --layout "$work/oci"
# containerd names an imported OCI image after this annotation on its index entry.
python3 - "$work/oci/index.json" "$name" <<'EOF'
import json, sys
path, name = sys.argv[1], sys.argv[2]
index = json.load(open(path))
for m in index["manifests"]:
    m.setdefault("annotations", {})["io.containerd.image.name"] = name
json.dump(index, open(path, "w"))
EOF
tar -C "$work/oci" -cf "$out" .
echo "built $name: $out ($(du -h "$out" | cut -f1))"
