#!/usr/bin/env bash
# Build Fledge's two images with buildah from this machine's own parts, where no base image can be
# pulled: the release binary built here, and a Debian root made with debootstrap.
#
#   fledge             the controller: the binary and only the libraries it loads (glibc, libstdc++,
#                      libgcc_s, libz), CA certificates, passwd/group; no shell, no package manager.
#   fledge-loadtester  the load tester: a trimmed minimal Debian (bash, grep, coreutils, apt) with
#                      curl and CA certificates, and the same binary.
#
# Both run as uid/gid 65532 with entrypoint /usr/local/bin/fledge and work with a read-only root
# filesystem (only /tmp is written). The Containerfile builds the same images from published base
# images (gcr.io/distroless/cc-debian12 and debian:bookworm-slim); docs/image.md compares them.
#
# Needs root, buildah, debootstrap, binutils (strip, readelf) and Debian's archive. Build the binary
# first:
#   swift build -c release --static-swift-stdlib --disable-default-traits --product fledge
# then:
#   scripts/build-image.sh [--oci-dir DIR]
#   scripts/check-image.sh
set -euo pipefail

usage() {
    cat <<'EOF'
usage: scripts/build-image.sh [options]

  --binary PATH       fledge binary to package (default: .build/release/fledge), built with
                      swift build -c release --static-swift-stdlib --disable-default-traits --product fledge
  --name NAME         controller image name (default: localhost/fledge); the load tester is
                      NAME-loadtester
  --tag TAG           image tag (default: the version the binary prints)
  --suite SUITE       Debian suite for the libraries and the load tester's root (default: bookworm,
                      the release the binary was linked against)
  --mirror URL        Debian archive (default: http://deb.debian.org/debian)
  --security-mirror URL
                      Debian security archive (default: http://deb.debian.org/debian-security)
  --work-dir DIR      where to make the Debian root (default: a temporary directory, removed after)
  --oci-dir DIR       also write DIR/fledge-TAG.oci.tar and DIR/fledge-loadtester-TAG.oci.tar
  --no-strip          package the binary as it is (default: strip its symbol tables)
  -h, --help          this text
EOF
}

repo=$(cd "$(dirname "$0")/.." && pwd)
binary=$repo/.build/release/fledge
name=localhost/fledge
tag=
suite=bookworm
mirror=http://deb.debian.org/debian
security_mirror=http://deb.debian.org/debian-security
work_dir=
oci_dir=
strip_binary=1

while [ $# -gt 0 ]; do
    case $1 in
        --binary) binary=${2:?--binary needs a path}; shift 2 ;;
        --name) name=${2:?--name needs a name}; shift 2 ;;
        --tag) tag=${2:?--tag needs a tag}; shift 2 ;;
        --suite) suite=${2:?--suite needs a Debian suite}; shift 2 ;;
        --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
        --security-mirror) security_mirror=${2:?--security-mirror needs a URL}; shift 2 ;;
        --work-dir) work_dir=${2:?--work-dir needs a directory}; shift 2 ;;
        --oci-dir) oci_dir=${2:?--oci-dir needs a directory}; shift 2 ;;
        --no-strip) strip_binary=0; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "build-image.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

die() { echo "build-image.sh: $*" >&2; exit 1; }
step() { echo "--- $*"; }

[ "$(id -u)" = 0 ] || die "must run as root (buildah mount and debootstrap need it)"
for tool in buildah debootstrap strip readelf chroot; do
    command -v "$tool" >/dev/null || die "$tool is not installed; on Debian: apt-get install -y --no-install-recommends buildah debootstrap binutils"
done
[ -f "$binary" ] || die "no binary at $binary; build it with: swift build -c release --static-swift-stdlib --disable-default-traits --product fledge"
readelf -h "$binary" >/dev/null 2>&1 || die "$binary is not an ELF executable"
interpreter=$(readelf -l "$binary" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]/\1/p')
[ -n "$interpreter" ] || die "$binary names no program interpreter; expected a dynamically linked glibc binary"
if readelf -d "$binary" | grep -q 'NEEDED.*libswiftCore'; then
    die "$binary loads Swift's runtime from shared libraries; build it with --static-swift-stdlib"
fi
version_line=$("$binary" version 2>/dev/null | head -n 1) || die "$binary version failed on this machine"
version=${version_line#fledge }
if [ -z "$version" ] || [ "$version" = "$version_line" ]; then
    die "$binary version printed \"$version_line\", expected \"fledge VERSION\""
fi
tag=${tag:-$version}
loadtester_name=$name-loadtester
revision=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# Everything made here goes when the script ends, however it ends.
cleanup_dirs=()
containers=()
cleanup() {
    local ctr dir
    for ctr in "${containers[@]}"; do
        buildah umount "$ctr" >/dev/null 2>&1 || true
        buildah rm "$ctr" >/dev/null 2>&1 || true
    done
    for dir in "${cleanup_dirs[@]}"; do rm -rf --one-file-system "$dir"; done
}
trap cleanup EXIT

if [ -z "$work_dir" ]; then
    work_dir=$(mktemp -d /var/tmp/fledge-image.XXXXXX)
    cleanup_dirs+=("$work_dir")
fi
mkdir -p "$work_dir"
root=$work_dir/rootfs
rm -rf --one-file-system "$root"

step "Debian $suite root (debootstrap --variant=minbase, with curl and ca-certificates)"
start=$SECONDS
debootstrap --variant=minbase --include=ca-certificates,curl "$suite" "$root" "$mirror" \
    >"$work_dir/debootstrap.log" 2>&1 || { tail -n 20 "$work_dir/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
# debootstrap installs from the suite alone; take the point-release and security updates too.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security_mirror $suite-security main
EOF
if ! { chroot "$root" apt-get update -qq && chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get -y -qq upgrade; } \
    >"$work_dir/upgrade.log" 2>&1; then
    tail -n 20 "$work_dir/upgrade.log" >&2
    die "updating the Debian root failed (log above)"
fi
chroot "$root" apt-get clean
echo "Debian root ready in $((SECONDS - start)) s"

step "binary"
mkdir -p "$root/usr/local/bin"
if [ "$strip_binary" = 1 ]; then
    strip --strip-all -o "$root/usr/local/bin/fledge" "$binary"
else
    install -m 0755 "$binary" "$root/usr/local/bin/fledge"
fi
chmod 0755 "$root/usr/local/bin/fledge"
echo "$binary: $(stat -c %s "$binary") bytes; packaged: $(stat -c %s "$root/usr/local/bin/fledge") bytes"

# The libraries the binary loads, as the Debian root's loader finds them.
ldd_out=$(chroot "$root" /usr/bin/ldd /usr/local/bin/fledge) || die "ldd failed on the binary in the Debian root"
if grep -q 'not found' <<<"$ldd_out"; then
    echo "$ldd_out" >&2
    die "the Debian $suite root lacks libraries the binary needs (above)"
fi
mapfile -t libraries < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$ldd_out" | sort -u)
grep -qx "$interpreter" < <(printf '%s\n' "${libraries[@]}") || libraries+=("$interpreter")
echo "loads: ${libraries[*]}"

# Copies PATH from the Debian root into DEST, following a chain of symlinks and copying each link and
# its target at the same place, so the loader finds every name it looks for.
copy_from_root() {
    local path=$1 dest=$2 dir real
    while :; do
        dir=$(chroot "$root" realpath -m "$(dirname "$path")")
        real=$dir/$(basename "$path")
        mkdir -p "$dest$dir"
        cp -a "$root$real" "$dest$real"
        if [ -L "$root$real" ]; then
            local link
            link=$(readlink "$root$real")
            case $link in
                /*) path=$link ;;
                *) path=$dir/$link ;;
            esac
        else
            break
        fi
    done
}

# The Debian packages that own the given files (for their copyright files and the scanners' records).
owning_packages() {
    local path real
    for path in "$@"; do
        real=$(chroot "$root" realpath -m "$path")
        chroot "$root" dpkg-query -S "$path" 2>/dev/null || chroot "$root" dpkg-query -S "$real" 2>/dev/null || true
    done | cut -d: -f1 | sort -u
}

# commit CONTAINER IMAGE: commits the working container as IMAGE, and removes the image IMAGE named
# before, now untagged, unless something still uses it.
commit() {
    local old
    old=$(buildah images --quiet --no-trunc "$2" 2>/dev/null || true)
    buildah commit --quiet --rm "$1" "$2" >/dev/null
    containers=()
    if [ -n "$old" ] && [ "$old" != "$(buildah images --quiet --no-trunc "$2")" ]; then
        buildah rmi "$old" >/dev/null 2>&1 || true
    fi
}

step "controller image $name:$tag"
ctr=$(buildah from --quiet scratch)
containers+=("$ctr")
mnt=$(buildah mount "$ctr")
# Merged /usr, as in Debian: /lib and /lib64 are links into /usr, where the loader path points.
for link in lib lib64; do
    if [ -L "$root/$link" ]; then cp -a "$root/$link" "$mnt/$link"; fi
done
for lib in "${libraries[@]}"; do copy_from_root "$lib" "$mnt"; done
install -d -m 0755 "$mnt/usr/local/bin" "$mnt/etc/ssl/certs" "$mnt/usr/lib" "$mnt/dev" "$mnt/proc" "$mnt/sys"
install -m 0755 "$root/usr/local/bin/fledge" "$mnt/usr/local/bin/fledge"
install -d -m 1777 "$mnt/tmp"
install -d -m 0700 -o 65532 -g 65532 "$mnt/home/nonroot"
install -m 0644 "$root/etc/ssl/certs/ca-certificates.crt" "$mnt/etc/ssl/certs/ca-certificates.crt"
cp -a "$root/usr/lib/os-release" "$mnt/usr/lib/os-release"
ln -s ../usr/lib/os-release "$mnt/etc/os-release"
cat >"$mnt/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$mnt/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
nonroot:x:65532:
EOF
# glibc 2.34 and later have the files and dns sources built in: no libnss_* needed.
cat >"$mnt/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
networks: files
protocols: files
services: files
EOF
chmod 0644 "$mnt/etc/passwd" "$mnt/etc/group" "$mnt/etc/nsswitch.conf"
# Copyright files of the packages the files come from, and their dpkg records in the layout image
# scanners read for distroless images (one file per package under /var/lib/dpkg/status.d).
mapfile -t packages < <(owning_packages "${libraries[@]}" /etc/ssl/certs/ca-certificates.crt /usr/share/ca-certificates)
install -d -m 0755 "$mnt/var/lib/dpkg/status.d"
for pkg in "${packages[@]}"; do
    if [ -f "$root/usr/share/doc/$pkg/copyright" ]; then
        install -D -m 0644 "$root/usr/share/doc/$pkg/copyright" "$mnt/usr/share/doc/$pkg/copyright"
    fi
    chroot "$root" dpkg-query -s "$pkg" >"$mnt/var/lib/dpkg/status.d/$pkg"
done
echo "from Debian packages: ${packages[*]}"

common_config=(
    --os linux
    --arch "$(buildah info --format '{{.host.arch}}' 2>/dev/null || dpkg --print-architecture)"
    --user 65532:65532
    --workingdir /
    --entrypoint '["/usr/local/bin/fledge"]'
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
    --label org.opencontainers.image.version="$tag"
    --label org.opencontainers.image.revision="$revision"
    --label org.opencontainers.image.created="$created"
    --label org.opencontainers.image.licenses=Apache-2.0
)
buildah config "${common_config[@]}" \
    --port 9443/tcp --port 9090/tcp \
    --label org.opencontainers.image.title=fledge \
    --label org.opencontainers.image.description="Fledge: Flagger-compatible progressive delivery for Kubernetes (controller and admission webhooks)" \
    --label org.opencontainers.image.base.name="scratch + Debian $suite libraries (libc6, libstdc++6, libgcc-s1, zlib1g, ca-certificates)" \
    "$ctr"
buildah umount "$ctr" >/dev/null
commit "$ctr" "$name:$tag"

step "load tester image $loadtester_name:$tag"
# Trim the Debian root to what a running container uses: no package lists or caches, no manuals,
# translations or docs (copyright files stay), no logs, and nothing copied from this host.
chroot "$root" apt-get clean
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* "$root"/usr/share/lintian \
    "$root"/usr/share/linda "$root"/var/cache/ldconfig/aux-cache "$root"/etc/resolv.conf "$root"/etc/hostname
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
find "$root/var/log" -type f -delete
find "$root/tmp" "$root/var/tmp" -mindepth 1 -delete
chroot "$root" groupadd --key GID_MAX=65532 --gid 65532 nonroot
chroot "$root" useradd --key UID_MAX=65532 --uid 65532 --gid 65532 --home-dir /home/nonroot \
    --shell /usr/sbin/nologin --no-create-home nonroot
# No setuid or setgid programs (su, mount, passwd, ...): nothing in the image may gain privileges.
find "$root" -xdev -type f -perm /6000 -exec chmod a-s {} +
install -d -m 0700 -o 65532 -g 65532 "$root/home/nonroot"

ctr=$(buildah from --quiet scratch)
containers+=("$ctr")
mnt=$(buildah mount "$ctr")
# The whole root but the device nodes debootstrap made (a runtime mounts its own /dev).
tar -C "$root" --exclude=./dev/* --exclude=./proc/* --exclude=./sys/* -cf - . | tar -C "$mnt" -xpf -
buildah config "${common_config[@]}" \
    --env HOME=/tmp \
    --cmd '["loadtester", "--listen", "0.0.0.0:8080"]' \
    --port 8080/tcp \
    --label org.opencontainers.image.title=fledge-loadtester \
    --label org.opencontainers.image.description="Fledge's load tester (Flagger-compatible), with bash, curl and grep for its tasks" \
    --label org.opencontainers.image.base.name="Debian $suite minbase (debootstrap) + curl, ca-certificates" \
    "$ctr"
buildah umount "$ctr" >/dev/null
commit "$ctr" "$loadtester_name:$tag"

if [ -n "$oci_dir" ]; then
    step "OCI archives in $oci_dir"
    mkdir -p "$oci_dir"
    for image in "$name" "$loadtester_name"; do
        file=$oci_dir/$(basename "$image")-$tag.oci.tar
        rm -f "$file"
        buildah push --quiet "$image:$tag" "oci-archive:$file:$image:$tag" >/dev/null
        echo "$file: $(du -h "$file" | cut -f1)"
    done
fi

step "images"
buildah images --format '{{.Name}}:{{.Tag}}  {{.ID}}  {{.Size}}' | grep -E "^($name|$loadtester_name):$tag " || true
