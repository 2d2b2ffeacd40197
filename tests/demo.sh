#!/usr/bin/env bash
# The kubectl-runbook demo: builds the plugins, starts the built-in test cluster once per runbook
# incident on 127.0.0.1, and runs the plugins through the installed kubectl as an on-call
# engineer would, saying which runbook step each command replaces.
#
#   tests/demo.sh            needs a Rust toolchain and kubectl on PATH; no cluster
#
# Exits 0 when every step behaved as expected (findings exit 1 or 2 where the incident has them),
# 1 when a step did not, 130 when interrupted. DEMO_SKIP_BUILD=1 uses the binaries already built.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${CARGO_TARGET_DIR:-$root/target}/debug"
work="$(mktemp -d "${TMPDIR:-/tmp}/kubectl-runbook-demo.XXXXXX")"
server_pid=""
unexpected=0

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  bold=$'\e[1m' dim=$'\e[2m' cyan=$'\e[36m' green=$'\e[32m' red=$'\e[31m' reset=$'\e[0m'
else
  bold="" dim="" cyan="" green="" red="" reset=""
fi

stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
    server_pid=""
  fi
}

cleanup() {
  stop_server
  rm -rf "$work"
}
trap cleanup EXIT
trap 'printf "\ninterrupted\n" >&2; exit 130' INT TERM

die() {
  printf '%sdemo: %s%s\n' "$red" "$*" "$reset" >&2
  exit 1
}

# The command line as a person would type it: arguments with spaces or quotes in single quotes.
show() {
  local out="+" arg
  for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./:=+%@,-]+$ ]]; then
      out+=" $arg"
    else
      out+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  printf '%s%s%s\n' "$bold" "$out" "$reset"
}

scenario() {
  printf '\n%s━━━ %s%s\n' "$bold$cyan" "$*" "$reset"
}

# step "EXPECTED EXIT CODES" "the runbook step it replaces" command...
step() {
  local expected="$1" replaces="$2" code
  shift 2
  printf '\n%s# replaces: %s%s\n' "$dim" "$replaces" "$reset"
  show "$@"
  "$@"
  code=$?
  # A plugin that handles Ctrl-C exits 130 itself, and bash then runs no INT trap: stop here.
  if [ "$code" -eq 130 ]; then
    printf '\ninterrupted\n' >&2
    exit 130
  fi
  if [[ " $expected " == *" $code "* ]]; then
    printf '%s→ exit %s (expected)%s\n' "$green" "$code" "$reset"
  else
    printf '%s→ exit %s, expected %s%s\n' "$red" "$code" "${expected// / or }" "$reset"
    unexpected=$((unexpected + 1))
  fi
}

# Starts the test cluster with a scenario and points KUBECONFIG at it.
start_cluster() {
  local name="$1" log="$work/$1.log" i
  export KUBECONFIG="$work/$1.kubeconfig"
  "$bin/test-cluster" serve --scenario "$name" --port 0 --kubeconfig "$KUBECONFIG" >"$log" 2>&1 &
  server_pid=$!
  for i in $(seq 1 300); do
    if grep -qx 'ready' "$log" 2>/dev/null; then
      printf '%s(test cluster %s: %s)%s\n' "$dim" "$name" "$(grep -o 'http://[0-9.:]*' "$log" | head -1)" "$reset"
      return 0
    fi
    kill -0 "$server_pid" 2>/dev/null || { cat "$log" >&2; die "the test cluster stopped while starting $name"; }
    sleep 0.1
  done
  cat "$log" >&2
  die "the test cluster did not get ready for $name within 30s"
}

command -v kubectl >/dev/null || die "kubectl is not on PATH: install it first (any version >= 1.26)"
if [ "${DEMO_SKIP_BUILD:-}" != 1 ]; then
  command -v cargo >/dev/null || die "cargo is not on PATH: install a Rust toolchain first (rustup.rs)"
  printf '%sBuilding the plugins and the test cluster (cargo build --workspace --bins)...%s\n' "$bold" "$reset"
  (cd "$root" && cargo build --workspace --bins) || die "the build failed"
fi
for b in test-cluster kubectl-gw_status kubectl-gw_resize kubectl-node_maintain kubectl-svc_check; do
  [ -x "$bin/$b" ] || die "$bin/$b is missing: run without DEMO_SKIP_BUILD=1"
done
# The four binaries on PATH as an install puts them (target/debug itself also holds kubectl-*.d
# dependency files, which kubectl would report as broken plugins).
mkdir -p "$work/bin"
for b in kubectl-gw_status kubectl-gw_resize kubectl-node_maintain kubectl-svc_check; do
  ln -s "$bin/$b" "$work/bin/$b"
done
export PATH="$work/bin:$PATH"

scenario "The plugins, as kubectl sees them"
# (exit 1 only when other kubectl-* files on your PATH draw warnings, e.g. copies ours shadow)
step "0 1" "finding the plugin binaries by hand" kubectl plugin list

scenario "Runbook 000: gateway-proxy OOM-killed into CrashLoopBackOff at 99% of its memory limit"
start_cluster gateway-oom
step "2" "kubectl get deploy gateway-proxy -ojson | jq .status; kubectl get deploy -ojson | jq '.spec.template.spec.containers[].resources'; kubectl describe pod; kubectl logs --previous" \
  kubectl gw-status gateway-proxy -n gateway
step "0" "kubectl edit deploy gateway-proxy (memory request and limit +500Mi), then kubectl rollout status" \
  kubectl gw-resize deploy/gateway-proxy -n gateway --memory +500Mi --yes --timeout 90s
step "1" "checking by hand that the new pods stay up (what remains are posture warnings)" \
  kubectl gw-status gateway-proxy -n gateway
stop_server

scenario "Runbook 000: gateway-proxy Pending, no node tolerates the gateway taint"
start_cluster gateway-pending
step "2" "kubectl describe pod (reading the FailedScheduling message); kubectl describe node ... | grep Taints" \
  kubectl gw-status gateway-proxy -n gateway
step "0" "kubectl edit deploy gateway-proxy (add the toleration), then kubectl rollout status" \
  kubectl gw-resize deploy/gateway-proxy -n gateway --add-toleration node-role.kubernetes.io/gateway:NoSchedule --yes --timeout 90s
stop_server

scenario "Runbook 001: istio outage: every pod Running, yet istiod has no ready endpoints"
start_cluster istio-outage
step "2" "kubectl get pods -n istio-system (all Running); kubectl logs istio-ingressgateway; apiserver logs of failing webhooks; kubectl top node" \
  kubectl gw-status istio --logs
step "0" "kubectl patch deployment istiod -p '{...\"date\":\"...\"}' (restart so it moves off the saturated node), then kubectl rollout status" \
  kubectl gw-resize deploy/istiod -n istio-system --restart --yes --timeout 90s
step "0" "the same for the ingress gateway, which shares the saturated node" \
  kubectl gw-resize deploy/istio-ingressgateway -n istio-system --restart --yes --timeout 90s
step "1" "checking by hand that istiod is ready and serving (what remains are the post-mortem's follow-ups)" \
  kubectl gw-status istio
stop_server

scenario "Runbook 002: Nantian Gateway-API gateway with an HTTPRoute whose backend does not resolve"
start_cluster nantian-gateway
step "2" "kubectl get pods -n nantian-gw; kubectl get gatewayclass,gateway,httproute -o yaml, reading the conditions by eye" \
  kubectl gw-status nantian
step "0" "kubectl scale deployment/nantian-gw-dataplane -n nantian-gw --replicas=4; kubectl rollout status" \
  kubectl gw-resize deploy/nantian-gw-dataplane -n nantian-gw --replicas +2 --yes --timeout 90s
stop_server

scenario "Runbook 003: node trouble: DiskPressure, ImageGCFailed, a NotReady node (PLEG), evicted pods"
start_cluster node-trouble
step "2" "kubectl get nodes; kubectl describe node ...; kubectl get events --field-selector involvedObject.kind=Node; kubectl get pods -A | grep Evicted" \
  kubectl node-maintain check
step "2" "kubectl drain node-1 --ignore-daemonsets --delete-local-data --dry-run=client (a list, without the blockers)" \
  kubectl node-maintain drain node-1 --dry-run
step "0" "kubectl scale deployment/checkout -n shop --replicas=3 (so the PDB allows an eviction, as the plan says)" \
  kubectl gw-resize deploy/checkout -n shop --replicas +1 --yes --timeout 90s
step "0" "kubectl cordon node-1; kubectl drain node-1 --ignore-daemonsets --delete-local-data --force" \
  kubectl node-maintain drain node-1 --delete-emptydir-data --force --reason 'kernel upgrade' --timeout 90s --yes
step "0" "kubectl uncordon node-1 (after the maintenance)" \
  kubectl node-maintain uncordon node-1
stop_server

scenario "Runbooks 003/004: Services that hang, refuse connections or do not balance"
start_cluster service-faults
step "2" "kubectl get svc -A; kubectl get endpoints; kubectl get pods --show-labels; kubectl describe svc ... one by one" \
  kubectl svc-check -A
step "1" "kubectl get svc notifications -o yaml; kubectl get pods -o yaml | grep -A5 readinessProbe" \
  kubectl svc-check notifications -n shop
stop_server

if [ "$unexpected" -eq 0 ]; then
  printf '\n%sEvery step behaved as expected.%s\n' "$bold$green" "$reset"
else
  printf '\n%s%s step(s) did not behave as expected.%s\n' "$bold$red" "$unexpected" "$reset"
  exit 1
fi
