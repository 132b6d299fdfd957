#!/usr/bin/env bash
# Records what a correct run looks like, for the course site and `kubelab lint`: runs each
# exercise's reference solution on a real cluster with `kubelab run EXERCISE --reference`, in a
# namespace of its own, and saves the cluster's state as the exercise's sample bundle
# (units/<unit>/<exercise>/sample.bundle.json). The book draws its timeline and verdicts from
# it; lint proves it still passes with full points. Re-record when a reference changes.
#
# Usage (KUBECONFIG set, e.g. by ../shared/k8s/up.sh; kubelab built with `cargo build`):
#   book/record-samples.sh [EXERCISE...]     # default: every exercise with a sample.bundle.json
# (The race's busy-node runs are recorded by hand: race/loaded.bundle.json is the Kubernetes 1.24
# recording (see tests/race.rs); race/loaded-1.36.bundle.json is the 1.36 kit with a pod of
# another namespace requesting 700m CPU and a LimitRange giving the race's namespace a 400m
# default request (the set-up of tests/e2e.rs's the_race_ties_on_a_loaded_node), then
# `kubelab run race --reference` and `kubelab collect race`. CPU-bound neighbours alone did not
# slow the kit's kuard stand-in, whose work is sleeps.)
# Exercises are recorded one after another: a shared node's CPU changes the timings.
set -euo pipefail
cd "$(dirname "$0")/.."
KUBELAB=${KUBELAB:-target/debug/kubelab}
exercises=("$@")
if [ ${#exercises[@]} -eq 0 ]; then
  # image-processor's sample is the 1.36 recording's collection (tests/live_check.rs keeps it so).
  exercises=($(grep -l '^  - bundle: sample.bundle.json' units/*/*/exercise.yaml | xargs -n1 dirname | xargs -n1 basename | grep -vx image-processor))
fi

for ex in "${exercises[@]}"; do
  dir=$(dirname units/*/"$ex"/exercise.yaml)
  out=$dir/sample.bundle.json
  ns="sample-$ex-$$"
  kubectl create namespace "$ns" >/dev/null
  start=$(date +%s)
  "$KUBELAB" --color never run "$ex" --reference -n "$ns" --timeout 8m </dev/null >"/tmp/record-$ex.log" 2>&1 || true
  "$KUBELAB" collect "$ex" -n "$ns" --out "$out" >/dev/null
  echo "$ex: $(grep -E '^(PASSED|FAILED|PENDING)' "/tmp/record-$ex.log" | tail -1) after $(( $(date +%s) - start ))s -> $out"
  kubectl delete namespace "$ns" --wait=false >/dev/null
done
