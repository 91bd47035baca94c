#!/usr/bin/env bash
# certs/install.sh: make Fledge's webhook serving certificate and wire it up.
#
#   1. `fledge certs` writes a fresh CA + P-256 serving certificate into --out-dir
#      (ca.crt, tls.crt, tls.key) for <svc>, <svc>.<ns>, <svc>.<ns>.svc and
#      <svc>.<ns>.svc.<cluster-domain>;
#   2. caBundle of every webhook in the MutatingWebhookConfiguration and the
#      ValidatingWebhookConfiguration named `fledge` is set to the new CA (plus
#      the previous CA, so the API server keeps trusting pods that still serve
#      the old certificate while the Secret update reaches them);
#   3. the TLS Secret `fledge-webhook-tls` is created or updated; the pods
#      reload tls.crt/tls.key when the kubelet refreshes the mounted Secret.
#
# Safe to re-run at any time; re-running is how the certificate is rotated.
# Run it after the first `kubectl apply -k manifests/` (which creates the
# namespace and the webhook configurations). The manifests leave caBundle out,
# so later applies keep the CA this script set; there is no need to re-run it
# after every apply.
# Not for installs that use the cert-manager overlay: the script refuses when
# the webhook configurations carry cert-manager's inject-ca-from annotation.
#
# Environment: KUBECTL (default "kubectl") is the kubectl command to use,
# e.g. KUBECTL="kubectl --context staging".
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

namespace="fledge-system"
service=fledge
out_dir="$script_dir/out"
cluster_domain=cluster.local
fledge_bin=""
dry_run=0
keep_previous_ca=1

secret_name="fledge-webhook-tls"
webhook_config=fledge
read -r -a kubectl <<<"${KUBECTL:-kubectl}"

usage() {
    cat <<EOF
Usage: certs/install.sh [options]

Makes the serving certificate for Fledge's admission webhooks with
\`fledge certs\`, stores it in Secret ${secret_name}, and patches caBundle of
every webhook in the Mutating/ValidatingWebhookConfiguration \`${webhook_config}\`.
Idempotent; re-run it to rotate the certificate.

Options:
  --namespace NS          namespace Fledge runs in (default: ${namespace})
  --service NAME          Service in front of the webhook (default: ${service})
  --out-dir DIR           where ca.crt, tls.crt, tls.key are written
                          (default: certs/out next to this script)
  --fledge PATH           fledge binary (default: \`fledge\` on PATH, else
                          \`swift run fledge\` in this checkout)
  --cluster-domain NAME   cluster DNS domain for the FQDN SAN (default: ${cluster_domain})
  --drop-previous-ca      put only the new CA in caBundle (default keeps the
                          previous CA too, for a seamless rotation)
  --dry-run               generate the files locally, but print the kubectl
                          commands that would change the cluster instead of
                          running them
  -h, --help              show this help

Environment:
  KUBECTL                 kubectl command line to use (default: kubectl)
EOF
}

say() { printf '==> %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
    printf 'install.sh: error: %s\n' "$*" >&2
    exit 1
}

# Prints a command line the way one would type it (single quotes where needed).
print_cmd() {
    local arg sep=""
    for arg in "$@"; do
        if [[ $arg =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
            printf '%s%s' "$sep" "$arg"
        else
            printf "%s'%s'" "$sep" "${arg//\'/\'\\\'\'}"
        fi
        sep=" "
    done
}

# Runs a command that changes the cluster, or prints it under --dry-run.
mutate() {
    if ((dry_run)); then
        printf '+ %s\n' "$(print_cmd "$@")"
    else
        "$@"
    fi
}

need_value() {
    [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"
}

while [[ $# -gt 0 ]]; do
    case $1 in
    --namespace) need_value "$@"; namespace=$2; shift 2 ;;
    --namespace=*) namespace=${1#*=}; shift ;;
    --service) need_value "$@"; service=$2; shift 2 ;;
    --service=*) service=${1#*=}; shift ;;
    --out-dir) need_value "$@"; out_dir=$2; shift 2 ;;
    --out-dir=*) out_dir=${1#*=}; shift ;;
    --fledge) need_value "$@"; fledge_bin=$2; shift 2 ;;
    --fledge=*) fledge_bin=${1#*=}; shift ;;
    --cluster-domain) need_value "$@"; cluster_domain=$2; shift 2 ;;
    --cluster-domain=*) cluster_domain=${1#*=}; shift ;;
    --drop-previous-ca) keep_previous_ca=0; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument: $1" ;;
    esac
done

[[ -n $namespace && -n $service && -n $out_dir && -n $cluster_domain ]] ||
    die "--namespace, --service, --out-dir and --cluster-domain must not be empty"

command -v "${kubectl[0]}" >/dev/null 2>&1 || die "kubectl not found (set KUBECTL to its path)"

# --- which fledge --------------------------------------------------------------
if [[ -n $fledge_bin ]]; then
    if [[ $fledge_bin == */* ]]; then
        [[ -x $fledge_bin ]] || die "--fledge $fledge_bin is not an executable file"
    else
        command -v "$fledge_bin" >/dev/null 2>&1 || die "--fledge $fledge_bin: not found on PATH"
    fi
    fledge=("$fledge_bin")
elif command -v fledge >/dev/null 2>&1; then
    fledge=(fledge)
elif command -v swift >/dev/null 2>&1 && [[ -f $repo_root/Package.swift ]]; then
    say "fledge is not on PATH; using \`swift run fledge\` from $repo_root (builds it first)"
    fledge=(swift run --package-path "$repo_root" fledge)
else
    die "fledge not found: put it on PATH, pass --fledge PATH, or run from a source checkout with swift installed"
fi

# --- base64 helpers (GNU and BSD/macOS) -----------------------------------------
b64encode_file() { base64 <"$1" | tr -d '\n'; }
b64decode() {
    if command -v openssl >/dev/null 2>&1; then openssl base64 -d -A; else base64 -d; fi
}

# --- what is in the cluster ------------------------------------------------------
# Number of webhooks in a webhook configuration; empty output when it cannot be read.
count_webhooks() {
    local names
    names=$("${kubectl[@]}" get "$1" "$webhook_config" \
        -o jsonpath='{range .webhooks[*]}{.name}{"\n"}{end}' 2>/dev/null) || return 0
    grep -c . <<<"$names" || true
}

# The cert-manager overlay owns the certificate; this script must not fight cainjector.
cert_manager_annotation() {
    "${kubectl[@]}" get "$1" "$webhook_config" \
        -o jsonpath='{.metadata.annotations.cert-manager\.io/inject-ca-from}' 2>/dev/null || true
}

# The first certificate currently in caBundle (the CA the API server trusts today).
current_ca() {
    local b64
    b64=$("${kubectl[@]}" get validatingwebhookconfiguration "$webhook_config" \
        -o jsonpath='{.webhooks[0].clientConfig.caBundle}' 2>/dev/null) || return 0
    [[ -n $b64 ]] || return 0
    printf '%s' "$b64" | b64decode 2>/dev/null |
        awk '/-----BEGIN CERTIFICATE-----/ { p = 1 } p { print } /-----END CERTIFICATE-----/ { if (p) exit }' || true
}

cluster_reachable=1
if ! "${kubectl[@]}" get namespace "$namespace" >/dev/null 2>&1; then
    if ((dry_run)); then
        warn "cannot read namespace $namespace (no cluster, or not installed yet); showing commands anyway"
        cluster_reachable=0
    else
        die "namespace $namespace not found: apply the manifests first (kubectl apply -k manifests/)"
    fi
fi

# Webhook counts, indexed like `kinds` (plain arrays: macOS still ships bash 3.2).
kinds=(mutatingwebhookconfiguration validatingwebhookconfiguration)
shipped_counts=(1 2) # the shape of manifests/base/webhooks.yaml
counts=()
for k in 0 1; do
    kind=${kinds[$k]}
    count=""
    if ((cluster_reachable)); then
        [[ -z $(cert_manager_annotation "$kind") ]] ||
            die "$kind/$webhook_config has the cert-manager.io/inject-ca-from annotation: this install uses the cert-manager overlay, which manages the certificate and caBundle itself"
        count=$(count_webhooks "$kind")
    fi
    if [[ -z $count || $count == 0 ]]; then
        if ((dry_run)); then
            count=${shipped_counts[$k]}
            warn "cannot read $kind/$webhook_config; assuming the shipped manifests ($count webhook(s))"
        else
            die "$kind/$webhook_config not found or has no webhooks: apply the manifests first (kubectl apply -k manifests/)"
        fi
    fi
    counts[k]=$count
done

# --- 1. certificate ---------------------------------------------------------------
dns_names=(
    "$service"
    "$service.$namespace"
    "$service.$namespace.svc"
    "$service.$namespace.svc.$cluster_domain"
)
certs_args=(certs --out-dir "$out_dir")
for name in "${dns_names[@]}"; do certs_args+=(--dns-name "$name"); done

mkdir -p "$out_dir"
say "generating a new CA and serving certificate in $out_dir"
say "  SANs: ${dns_names[*]}"
"${fledge[@]}" "${certs_args[@]}" >/dev/null
for f in ca.crt tls.crt tls.key; do
    [[ -s $out_dir/$f ]] || die "fledge certs did not write $out_dir/$f"
done
chmod 600 "$out_dir/tls.key"
if command -v openssl >/dev/null 2>&1; then
    say "  $(openssl x509 -in "$out_dir/tls.crt" -noout -enddate | sed 's/notAfter=/expires: /')"
fi

# --- 2. caBundle ------------------------------------------------------------------
# New CA first, then (unless dropped) the CA the API server trusts today, so no
# review fails while the pods still serve the previous certificate. The CA from
# two rotations ago falls out here.
bundle_file="$out_dir/ca-bundle.crt"
cp "$out_dir/ca.crt" "$bundle_file"
if ((keep_previous_ca && cluster_reachable)); then
    previous=$(current_ca)
    if [[ -n $previous && $previous != "$(cat "$out_dir/ca.crt")" ]]; then
        if command -v openssl >/dev/null 2>&1 && ! openssl x509 -noout -checkend 0 <<<"$previous" >/dev/null 2>&1; then
            say "previous CA in caBundle has expired or is unreadable; not keeping it"
        else
            printf '%s\n' "$previous" >>"$bundle_file"
            say "keeping the previous CA in caBundle alongside the new one (rotation overlap)"
        fi
    fi
fi
ca_bundle=$(b64encode_file "$bundle_file")

for k in 0 1; do
    kind=${kinds[$k]}
    count=${counts[$k]}
    ops=""
    for ((i = 0; i < count; i++)); do
        # "add" also replaces, and works when the field is absent (the shipped
        # manifests leave caBundle out).
        ops+="${ops:+,}{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$ca_bundle\"}"
    done
    say "setting caBundle on $count webhook(s) of $kind/$webhook_config"
    mutate "${kubectl[@]}" patch "$kind" "$webhook_config" --type=json -p "[$ops]"
done

# --- 3. Secret ---------------------------------------------------------------------
# Server-side apply: unlike client-side apply it does not copy the whole Secret
# (private key included) into a last-applied-configuration annotation.
say "writing Secret $namespace/$secret_name (tls.crt, tls.key)"
create_secret=("${kubectl[@]}" -n "$namespace" create secret tls "$secret_name"
    --cert="$out_dir/tls.crt" --key="$out_dir/tls.key" --dry-run=client -o yaml)
apply_secret=("${kubectl[@]}" apply --server-side --force-conflicts --field-manager=fledge-certs -f -)
if ((dry_run)); then
    printf '+ %s | %s\n' "$(print_cmd "${create_secret[@]}")" "$(print_cmd "${apply_secret[@]}")"
else
    "${create_secret[@]}" | "${apply_secret[@]}"
fi

if ((dry_run)); then
    say "dry run: nothing in the cluster was changed (certificate files are in $out_dir)"
else
    say "done. Running pods pick up the new certificate when the kubelet refreshes the"
    say "Secret volume (usually within a minute); no restart needed. To check it, see certs/README.md."
fi
