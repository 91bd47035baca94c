#!/usr/bin/env bash
# Check the images scripts/build-image.sh made (or any built from the Containerfile and pulled into
# buildah's storage): their configuration, their contents, and that fledge runs inside them.
#
# Each image's root filesystem is mounted read-only (buildah mount, then a read-only bind mount) with
# a tmpfs on /tmp, as a pod with readOnlyRootFilesystem and an emptyDir sees it, and its programs run
# there with chroot as uid/gid 65532, with no capabilities and no_new_privs (setpriv). Nothing can be
# written outside /tmp.
#
#   controller   user 65532, entrypoint fledge, no shell (/bin/sh, /bin/bash, busybox), no package
#                manager, no setuid files; `fledge version`; `fledge validate -f` accepts
#                manifests/examples/canary.yaml and refuses manifests/examples/invalid-canary.yaml
#   load tester  the same, but with bash, curl and grep, which run; `fledge loadtester` serves, and a
#                bash task shaped like the tutorial's acceptance test (curl … | grep …) passes
#
# Prints each check, then the image sizes; exits 1 when any check failed. Needs root and buildah.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/check-image.sh [options]

  --name NAME         controller image name (default: localhost/fledge); the load tester is
                      NAME-loadtester unless --loadtester-name says otherwise
  --loadtester-name NAME
                      load tester image name
  --tag TAG           image tag (default: the version .build/release/fledge prints)
  -h, --help          this text
EOF
}

repo=$(cd "$(dirname "$0")/.." && pwd)
name=localhost/fledge
loadtester_name=
tag=
while [ $# -gt 0 ]; do
    case $1 in
        --name) name=${2:?--name needs a name}; shift 2 ;;
        --loadtester-name) loadtester_name=${2:?--loadtester-name needs a name}; shift 2 ;;
        --tag) tag=${2:?--tag needs a tag}; shift 2 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "check-image.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done
loadtester_name=${loadtester_name:-$name-loadtester}

die() { echo "check-image.sh: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (buildah mount, mount and chroot need it)"
for tool in buildah python3 setpriv chroot mount curl readelf gzip; do
    command -v "$tool" >/dev/null || die "$tool is not installed"
done
if [ -z "$tag" ]; then
    [ -x "$repo/.build/release/fledge" ] || die "give --tag TAG (no .build/release/fledge to ask for its version)"
    tag=$("$repo/.build/release/fledge" version | head -n 1)
    tag=${tag#fledge }
fi
canary=$repo/manifests/examples/canary.yaml
invalid_canary=$repo/manifests/examples/invalid-canary.yaml
for file in "$canary" "$invalid_canary"; do [ -f "$file" ] || die "missing $file"; done

failures=()
pass() { echo "  ok    $1"; }
fail() { echo "  FAIL  $1" >&2; failures+=("$2: $1"); }
# check IMAGE DESCRIPTION COMMAND...: runs COMMAND on the host; passes when it succeeds.
check() {
    local image=$1 what=$2
    shift 2
    if "$@"; then pass "$what"; else fail "$what" "$image"; fi
}

containers=()
mounts=()
server_pid=
cleanup() {
    local i
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
        umount -R "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" 2>/dev/null || true
        rmdir "${mounts[i]}" 2>/dev/null || true
    done
    for i in "${containers[@]}"; do
        buildah umount "$i" >/dev/null 2>&1 || true
        buildah rm "$i" >/dev/null 2>&1 || true
    done
}
trap cleanup EXIT

# config IMAGE FIELD: one field of the image's OCI configuration, as JSON.
config() {
    buildah inspect --type image "$1" |
        python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["OCIv1"]["config"].get(sys.argv[1])))' "$2"
}

# Mounts IMAGE's root read-only with a tmpfs on /tmp, /dev with null/zero/random/urandom, and /proc,
# as a container runtime would. Sets $writable (buildah's mount, only looked at), $rootfs (the
# read-only view) and $run_in_image (the command prefix that runs a program in it as 65532:65532 with
# the image's environment only, no capabilities and no_new_privs).
mount_image() {
    local image=$1 ctr dev
    ctr=$(buildah from --quiet --pull=never "$image")
    containers+=("$ctr")
    writable=$(buildah mount "$ctr")
    rootfs=$(mktemp -d /tmp/fledge-check.XXXXXX)
    mounts+=("$rootfs")
    mount --bind "$writable" "$rootfs"
    mount -o remount,bind,ro "$rootfs"
    mount -t tmpfs -o mode=1777,size=64m tmpfs "$rootfs/tmp"
    mount -t tmpfs -o mode=0755,size=1m tmpfs "$rootfs/dev"
    for dev in null zero random urandom; do
        touch "$rootfs/dev/$dev"
        mount --bind "/dev/$dev" "$rootfs/dev/$dev"
    done
    mount -t proc proc "$rootfs/proc"
    local -a env_args
    mapfile -t env_args < <(config "$image" Env | python3 -c 'import json, sys; print("\n".join(json.load(sys.stdin) or []))')
    # chroot needs CAP_SYS_CHROOT, so the capabilities go when it switches to 65532; no_new_privs
    # (allowPrivilegeEscalation: false) keeps any program from gaining them back.
    run_in_image=("$(command -v env)" -i "${env_args[@]}" "$(command -v setpriv)" --no-new-privs --inh-caps=-all
        "$(command -v chroot)" --userspec=65532:65532 --groups=65532 "$rootfs")
}
in_image() { "${run_in_image[@]}" "$@"; }

absent() { [ ! -e "$1" ] && [ ! -L "$1" ]; }
stripped() { ! readelf -S "$1" | grep -q '\.symtab'; }
has_label() {
    python3 -c 'import json, sys; sys.exit(0 if (json.loads(sys.argv[1]) or {}).get(sys.argv[2]) else 1)' \
        "$(config "$1" Labels)" "$2"
}
has_env() { config "$1" Env | grep -qF "\"$2\""; }

# Checks shared by both images: configuration, the binary, and fledge running read-only.
check_common() {
    local image=$1 out status
    check "$image" "user is 65532:65532" test "$(config "$image" User)" = '"65532:65532"'
    check "$image" 'entrypoint is ["/usr/local/bin/fledge"]' test "$(config "$image" Entrypoint)" = '["/usr/local/bin/fledge"]'
    check "$image" "working directory is /" test "$(config "$image" WorkingDir)" = '"/"'
    for label in title description version revision created licenses; do
        check "$image" "label org.opencontainers.image.$label is set" has_label "$image" "org.opencontainers.image.$label"
    done
    check "$image" "/usr/local/bin/fledge is a root-owned file, mode 0755" \
        test "$(stat -c '%U %a' "$writable/usr/local/bin/fledge" 2>/dev/null)" = "root 755"
    check "$image" "the binary is stripped" stripped "$writable/usr/local/bin/fledge"
    check "$image" "no setuid or setgid files" \
        test -z "$(find "$writable" -xdev -type f \( -perm -4000 -o -perm -2000 \) -print -quit)"
    check "$image" "CA certificates at /etc/ssl/certs/ca-certificates.crt" \
        test -s "$writable/etc/ssl/certs/ca-certificates.crt"
    if out=$(in_image /usr/local/bin/fledge version 2>&1) && [[ $out == "fledge $tag"* ]]; then
        pass "fledge version (read-only root, uid 65532): ${out%%$'\n'*}"
    else
        fail "fledge version (read-only root, uid 65532) printed: $out" "$image"
    fi
    install -m 0644 "$canary" "$rootfs/tmp/canary.yaml"
    install -m 0644 "$invalid_canary" "$rootfs/tmp/invalid-canary.yaml"
    if out=$(in_image /usr/local/bin/fledge validate -f /tmp/canary.yaml 2>&1); then
        pass "fledge validate -f canary.yaml exits 0: ${out%%$'\n'*}"
    else
        fail "fledge validate -f canary.yaml failed: $out" "$image"
    fi
    status=0
    out=$(in_image /usr/local/bin/fledge validate -f /tmp/invalid-canary.yaml 2>&1) || status=$?
    if [ "$status" = 1 ] && grep -q 'stepWeight' <<<"$out"; then
        pass "fledge validate -f invalid-canary.yaml exits 1, naming spec.analysis.stepWeight"
    else
        fail "fledge validate -f invalid-canary.yaml exited $status: $out" "$image"
    fi
}

# Size of the image as buildah stores it, and its root as a gzip-compressed tar (about what a
# registry stores and a node pulls).
sizes=()
measure() {
    local image=$1 stored compressed
    stored=$(buildah images --format '{{.Size}}' "$image" | head -n 1)
    compressed=$(tar -C "$writable" -cf - . | gzip -6 | wc -c)
    sizes+=("$(printf '%-40s %10s stored, %6s MB compressed (gzip -6), binary %s MB' \
        "$image" "$stored" "$((compressed / 1000000))" "$(($(stat -c %s "$writable/usr/local/bin/fledge") / 1000000))")")
}

controller=$name:$tag
loadtester=$loadtester_name:$tag
echo "--- $controller"
if buildah inspect --type image "$controller" >/dev/null 2>&1; then
    mount_image "$controller"
    check_common "$controller"
    for shell in /bin/sh /bin/bash /bin/dash /usr/bin/sh /usr/bin/bash /usr/bin/dash /bin/busybox /usr/bin/busybox; do
        check "$controller" "no $shell" absent "$writable$shell"
    done
    for tool in /usr/bin/apt-get /usr/bin/dpkg /usr/bin/curl /usr/bin/env; do
        check "$controller" "no $tool" absent "$writable$tool"
    done
    check "$controller" "only one program: /usr/local/bin/fledge" \
        test "$(find "$writable" -xdev -type f -perm -0100 ! -name '*.so*' -print)" = "$writable/usr/local/bin/fledge"
    measure "$controller"
else
    fail "image not found in buildah's storage (run scripts/build-image.sh)" "$controller"
fi

echo "--- $loadtester"
if buildah inspect --type image "$loadtester" >/dev/null 2>&1; then
    mount_image "$loadtester"
    check_common "$loadtester"
    check "$loadtester" "command is loadtester --listen 0.0.0.0:8080" \
        test "$(config "$loadtester" Cmd)" = '["loadtester", "--listen", "0.0.0.0:8080"]'
    check "$loadtester" "HOME=/tmp in the environment" has_env "$loadtester" HOME=/tmp
    for tool in bash curl grep; do
        if out=$(in_image "$tool" --version 2>&1); then
            pass "$tool runs: ${out%%$'\n'*}"
        else
            fail "$tool --version failed in the image: $out" "$loadtester"
        fi
    done
    check "$loadtester" "bash -c 'echo token | grep -q token' runs" in_image bash -c 'echo token | grep -q token'
    check "$loadtester" "a program in the image runs with no capabilities and no_new_privs" \
        in_image grep -qzE 'CapEff:\s+0+\s.*NoNewPrivs:\s+1' /proc/self/status
    check "$loadtester" "/ is read-only and /tmp writable for uid 65532" \
        in_image bash -c '! touch /usr/local/bin/x 2>/dev/null && touch /tmp/x && rm /tmp/x'

    # The load tester itself, serving on the host's loopback from the image, runs a bash task shaped
    # like the tutorial's acceptance test against its own /healthz.
    port=$((20000 + $$ % 20000))
    script="curl -s http://127.0.0.1:$port/healthz | grep OK"
    pattern="^curl -s http://127\\.0\\.0\\.1:$port/healthz \\| grep OK\$"
    "${run_in_image[@]}" /usr/local/bin/fledge loadtester --listen "127.0.0.1:$port" --memory-gates \
        --allow-bash "$pattern" >"$rootfs/tmp/loadtester.log" 2>&1 &
    server_pid=$!
    up=0
    for _ in $(seq 1 150); do
        if curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then up=1; break; fi
        kill -0 "$server_pid" 2>/dev/null || break
        sleep 0.2
    done
    if [ "$up" = 1 ]; then
        pass "fledge loadtester serves /healthz on 127.0.0.1:$port"
        body=$(printf '{"name":"podinfo","namespace":"prod","phase":"Progressing","metadata":{"type":"bash","cmd":"%s"}}' "$script")
        answer=$(curl -s -o "$rootfs/tmp/answer" -w '%{http_code}' -H 'Content-Type: application/json' \
            -d "$body" "http://127.0.0.1:$port/") || answer=000
        if [ "$answer" = 200 ]; then
            pass "a bash task ($script) runs bash, curl and grep in the image: 200"
        else
            fail "the bash task ($script) was answered $answer: $(cat "$rootfs/tmp/answer" 2>/dev/null)" "$loadtester"
        fi
    else
        fail "fledge loadtester did not serve /healthz within 30 s: $(tail -n 5 "$rootfs/tmp/loadtester.log")" "$loadtester"
    fi
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    measure "$loadtester"
else
    fail "image not found in buildah's storage (run scripts/build-image.sh)" "$loadtester"
fi

echo "--- sizes"
printf '%s\n' "${sizes[@]}"

if [ ${#failures[@]} -gt 0 ]; then
    echo "--- ${#failures[@]} check(s) failed:" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "--- all image checks passed"
