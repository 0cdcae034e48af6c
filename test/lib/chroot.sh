# Sourced (bash): throwaway Debian chroots in which zenml_rbac is built and
# tested against PostgreSQL majors newer than the host's, without ever adding
# their suites to the host's apt sources (that would upgrade the host's libc).
#
#   . test/lib/chroot.sh
#   ensure_chroot 17            # build once, then reuse: PostgreSQL 17 on trixie
#   ensure_chroot 18            # PostgreSQL 18 on sid
#   ensure_chroot 15            # PostgreSQL 15 on bookworm, isolated from the host's
#   run_in_chroot 17 /tmp/zr17 make PG_CONFIG=/usr/lib/postgresql/17/bin/pg_config
#
# run_in_chroot MAJOR DIR CMD... bind-mounts /proc, /dev, /dev/pts, /dev/shm
# and the host directory DIR (at the same path) into the chroot, runs CMD there
# as root in DIR with a clean environment (PATH, LANG=C.UTF-8, HOME=/root, plus
# the variables named in ZR_CHROOT_PASS_ENV), unmounts everything again (also
# on failure or a signal) and returns CMD's exit status.
#
# Chroots live in $ZR_CHROOT_CACHE/chroot-MAJOR (default /var/cache/zenml_rbac);
# a chroot is complete only once its marker file .zenml_rbac-chroot is written,
# so one left half-built by an interrupted run is built anew. A change to the
# package list installs what is missing. Both functions need root.
#
# Settings (environment): ZR_CHROOT_CACHE, ZR_DEBIAN_MIRROR and
# ZR_DEBIAN_SECURITY_MIRROR (default: the host's configured Debian mirrors),
# ZR_CHROOT_EXTRA (more packages to install), ZR_CHROOT_PASS_ENV (names of
# variables passed into run_in_chroot's command), ZR_CHROOT_VERBOSE=1 (show
# debootstrap/apt output instead of logging it).
#
# Safe to source under `set -euo pipefail`: nothing here relies on errexit (the
# functions check every step), and neither sets options or traps in the
# caller's shell (their work runs in subshells).

ZR_CHROOT_CACHE=${ZR_CHROOT_CACHE:-/var/cache/zenml_rbac}
ZR_CHROOT_MARKER=.zenml_rbac-chroot
ZR_CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

_zr_err() { echo "chroot.sh: $*" >&2; }
_zr_say() { echo "chroot.sh: $*" >&2; }

# Debian suite that carries PostgreSQL MAJOR.
_zr_suite() {
    case "${1:-}" in
        15) echo bookworm ;;
        17) echo trixie ;;
        18) echo sid ;;
        *) _zr_err "no Debian suite known for PostgreSQL '${1:-}' (known: 15 -> bookworm, 17 -> trixie, 18 -> sid)"; return 2 ;;
    esac
}

_zr_root() { echo "$ZR_CHROOT_CACHE/chroot-$1"; }

# Packages the chroot must have; the build fails if one is missing from the suite.
_zr_required() {
    local m=$1
    echo "postgresql-$m postgresql-server-dev-$m postgresql-common postgresql-client-common" \
         "libtap-parser-sourcehandler-pgtap-perl libipc-run-perl make gcc libc6-dev" \
         "pgbouncer python3-psycopg libssl-dev openssl perl ssl-cert procps" \
         "ca-certificates ${ZR_CHROOT_EXTRA:-}"
}
# Packages installed when the suite has them, skipped (with a note) otherwise.
# clang and libclang-rt-dev: the libFuzzer harnesses of test/fuzz (the suite's default clang).
_zr_optional() { echo "postgresql-$1-pgtap postgresql-common-dev clang libclang-rt-dev"; }

# The host's Debian mirror: $1 = main | security. Read from the enabled apt
# sources (one-line .list and deb822 .sources) whose suite is the host's
# release, so third-party repositories are never picked.
_zr_host_mirror() {
    local want=$1 codename f uri
    # shellcheck disable=SC1091
    codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
    [ -n "$codename" ] || codename=bookworm
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in
            *.sources)
                awk 'BEGIN { RS = ""; FS = "\n" }
                {
                    types = ""; uris = ""; suites = ""; enabled = "yes"
                    for (k = 1; k <= NF; k++) {
                        line = $k
                        if (line ~ /^[ \t]*#/) continue
                        if (sub(/^[Tt]ypes:[ \t]*/, "", line)) types = line
                        else if (sub(/^URIs:[ \t]*/, "", line)) uris = line
                        else if (sub(/^[Ss]uites:[ \t]*/, "", line)) suites = line
                        else if (sub(/^[Ee]nabled:[ \t]*/, "", line)) enabled = tolower(line)
                    }
                    if (enabled == "no" || types !~ /(^| )deb( |$)/) next
                    nu = split(uris, u, /[ \t]+/); ns = split(suites, s, /[ \t]+/)
                    for (a = 1; a <= nu; a++) for (b = 1; b <= ns; b++) if (u[a] != "" && s[b] != "") print u[a], s[b]
                }' "$f" ;;
            *)
                awk '$1 == "deb" {
                    i = 2
                    if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; i++ }
                    print $i, $(i + 1)
                }' "$f" ;;
        esac
    done | while read -r uri suite; do
        case "$want:$suite" in
            main:"$codename"|main:"$codename"-updates) echo "${uri%/}" ;;
            security:"$codename"-security|security:"$codename"/updates) echo "${uri%/}" ;;
        esac
    done | awk 'NR == 1'
}

_zr_mirror() {
    local m=${ZR_DEBIAN_MIRROR:-}
    [ -n "$m" ] || m=$(_zr_host_mirror main)
    echo "${m:-http://deb.debian.org/debian}"
}
_zr_security_mirror() {
    local m=${ZR_DEBIAN_SECURITY_MIRROR:-}
    [ -n "$m" ] || m=$(_zr_host_mirror security)
    echo "${m:-}"
}

# Mount points under $1 (deepest first), from this process's mount table.
_zr_mounts_under() {
    local root=$1
    awk -v r="$root" '{
        p = $5
        # mountinfo escapes space, tab, newline and backslash as octal
        gsub(/\\040/, " ", p); gsub(/\\011/, "\t", p); gsub(/\\012/, "\n", p); gsub(/\\134/, "\\", p)
        if (p == r || index(p, r "/") == 1) print p
    }' /proc/self/mountinfo | sort -r
}

# Unmount everything under $1; fails if something stays mounted.
_zr_umount_all() {
    local root=$1 p left
    [ -n "$root" ] && [ "$root" != / ] || return 1
    while IFS= read -r p; do
        [ -n "$p" ] || continue
        umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null || true
    done < <(_zr_mounts_under "$root")
    left=$(_zr_mounts_under "$root")
    if [ -n "$left" ]; then
        _zr_err "still mounted under $root: ${left//$'\n'/ }"
        return 1
    fi
}

# Delete a chroot directory, never following a bind mount into the host.
_zr_remove_root() {
    local root=$1
    case "$root" in "$ZR_CHROOT_CACHE"/chroot-*) ;; *) _zr_err "refusing to delete $root"; return 1 ;; esac
    [ -e "$root" ] || return 0
    _zr_umount_all "$root" || { _zr_err "not deleting $root while something is mounted in it"; return 1; }
    rm -rf --one-file-system "$root"
}

# Mount /proc, /dev, /dev/pts, /dev/shm into $1; every mount point is
# appended to the array named by _zr_mounted (the caller unmounts them).
_zr_mount_system() {
    local root=$1 d
    for d in /proc /dev /dev/pts /dev/shm; do
        [ -d "$d" ] || continue
        mkdir -p "$root$d" || return 1
        mount --bind "$d" "$root$d" || { _zr_err "cannot bind-mount $d into $root"; return 1; }
        _zr_mounted+=("$root$d")
    done
}

# Unmount what _zr_mount_system and friends mounted, newest first.
_zr_umount_list() {
    local i rc=0
    for ((i = ${#_zr_mounted[@]} - 1; i >= 0; i--)); do
        umount "${_zr_mounted[i]}" 2>/dev/null || umount -l "${_zr_mounted[i]}" 2>/dev/null || {
            _zr_err "could not unmount ${_zr_mounted[i]}"; rc=1; }
    done
    _zr_mounted=()
    return $rc
}

# Pass signal $1 to run_in_chroot's command; KILL it after 10 s.
_zr_stop_child() {
    local pid=${_zr_child:-} i state
    [ -n "$pid" ] || return 0
    kill -"$1" "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        state=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
        { [ -z "$state" ] || [ "$state" = Z ]; } && break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# Run a command inside $1 (a chroot) as root, quietly, output to the log $2.
_zr_chroot_quiet() {
    local root=$1 log=$2; shift 2
    if [ "${ZR_CHROOT_VERBOSE:-0}" = 1 ]; then
        env -i PATH="$ZR_CHROOT_PATH" LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive \
            chroot "$root" "$@" 2>&1 | tee -a "$log"
        return "${PIPESTATUS[0]}"
    fi
    env -i PATH="$ZR_CHROOT_PATH" LANG=C.UTF-8 HOME=/root DEBIAN_FRONTEND=noninteractive \
        chroot "$root" "$@" >>"$log" 2>&1
}

# The marker's content: what the chroot was built from and with.
_zr_marker_text() {
    local m=$1
    # bump when _zr_configure_root changes: existing chroots are reconfigured
    echo "config=2"
    echo "suite=$(_zr_suite "$m")"
    echo "mirror=$(_zr_mirror)"
    echo "required=$(_zr_required "$m" | xargs)"
    echo "optional=$(_zr_optional "$m" | xargs)"
}

# Configure a fresh debootstrap tree at $1 before anything is installed in it.
_zr_configure_root() {
    local root=$1 suite=$2 mirror=$3 security=$4
    # no service may start during installs (postgresql, pgbouncer)
    printf '#!/bin/sh\n# zenml_rbac chroot: never start services\nexit 101\n' >"$root/usr/sbin/policy-rc.d" &&
        chmod 755 "$root/usr/sbin/policy-rc.d" || return 1
    {
        echo "deb $mirror $suite main"
        if [ "$suite" != sid ]; then
            echo "deb $mirror $suite-updates main"
            [ -z "$security" ] || echo "deb $security $suite-security main"
        fi
    } >"$root/etc/apt/sources.list" || return 1
    rm -f "$root/etc/apt/sources.list.d/"*.sources "$root/etc/apt/sources.list.d/"*.list
    cat >"$root/etc/apt/apt.conf.d/90zenml-rbac" <<'EOF' || return 1
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
// the mirror may be a frozen snapshot whose Release files have expired
Acquire::Check-Valid-Until "false";
Dpkg::Options { "--force-confdef"; "--force-confold"; };
Dpkg::Use-Pty "false";
quiet "1";
EOF
    # documentation, manuals and translations are never read here
    mkdir -p "$root/etc/dpkg/dpkg.cfg.d" &&
        cat >"$root/etc/dpkg/dpkg.cfg.d/90zenml-rbac" <<'EOF' || return 1
path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
EOF
    # tests make their own clusters (pg_virtualenv): no "main" cluster
    mkdir -p "$root/etc/postgresql-common" &&
        echo "create_main_cluster = false" >"$root/etc/postgresql-common/createcluster.conf" || return 1
    cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
    [ -s "$root/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
}

# Install the package lists in the chroot at $1 (system mounts already in place).
_zr_install_packages() {
    local root=$1 m=$2 log=$3 p want=() missing=() skipped=()
    _zr_chroot_quiet "$root" "$log" apt-get update || { _zr_err "apt-get update failed in $root (log: $log)"; return 1; }
    for p in $(_zr_required "$m"); do
        if _zr_has_candidate "$root" "$p"; then want+=("$p"); else missing+=("$p"); fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        _zr_err "not available in $(_zr_suite "$m"): ${missing[*]}"
        return 1
    fi
    for p in $(_zr_optional "$m"); do
        if _zr_has_candidate "$root" "$p"; then want+=("$p"); else skipped+=("$p"); fi
    done
    [ ${#skipped[@]} -eq 0 ] || _zr_say "not in $(_zr_suite "$m"), skipped: ${skipped[*]}"
    _zr_chroot_quiet "$root" "$log" apt-get install -y "${want[@]}" ||
        { _zr_err "apt-get install failed in $root (log: $log):"; tail -n 15 "$log" >&2; return 1; }
    _zr_chroot_quiet "$root" "$log" apt-get clean || true
    rm -rf "$root/var/lib/apt/lists/"*_Packages* 2>/dev/null || true
}

_zr_has_candidate() {
    local c
    c=$(env -i PATH="$ZR_CHROOT_PATH" LANG=C.UTF-8 chroot "$1" apt-cache policy "$2" 2>/dev/null |
        awk '/Candidate:/ && !seen { print $2; seen = 1 }')
    [ -n "$c" ] && [ "$c" != "(none)" ]
}

# Build (or complete) the chroot for major $1; runs under the chroot's lock.
_zr_build_locked() {
    local m=$1 suite root new log mirror security want start
    suite=$(_zr_suite "$m") || return 2
    root=$(_zr_root "$m")
    new="$root.partial"
    log="$ZR_CHROOT_CACHE/chroot-$m.log"
    want=$(_zr_marker_text "$m")
    _zr_mounted=()
    trap '_zr_umount_list' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap 'exit 129' HUP

    if [ -f "$root/$ZR_CHROOT_MARKER" ]; then
        [ "$(cat "$root/$ZR_CHROOT_MARKER")" = "$want" ] && return 0
        # same chroot, other package list: install what is missing
        _zr_say "updating packages of $root (log: $log)"
        : >"$log"
        rm -f "$root/$ZR_CHROOT_MARKER"
        _zr_configure_root "$root" "$suite" "$(_zr_mirror)" "$(_zr_security_mirror)" ||
            { _zr_err "cannot configure $root"; return 1; }
        _zr_mount_system "$root" || return 1
        _zr_install_packages "$root" "$m" "$log" || return 1
        _zr_umount_list || return 1
        echo "$want" >"$root/$ZR_CHROOT_MARKER"
        return 0
    fi

    mirror=$(_zr_mirror)
    security=$(_zr_security_mirror)
    # a chroot without its marker is half-built: start over
    _zr_remove_root "$root" || return 1
    _zr_remove_root "$new" || return 1
    : >"$log"
    start=$SECONDS
    _zr_say "building a $suite chroot for PostgreSQL $m in $root from $mirror (log: $log)"
    if ! debootstrap --variant=minbase --components=main --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
            "$suite" "$new" "$mirror" >>"$log" 2>&1; then
        _zr_err "debootstrap $suite failed (log: $log):"
        tail -n 15 "$log" >&2
        return 1
    fi
    _zr_configure_root "$new" "$suite" "$mirror" "$security" || { _zr_err "cannot configure $new"; return 1; }
    _zr_mount_system "$new" || return 1
    _zr_install_packages "$new" "$m" "$log" || return 1
    _zr_umount_list || return 1
    if ! echo "$want" >"$new/$ZR_CHROOT_MARKER" || ! mv -T "$new" "$root"; then
        _zr_err "cannot complete $root from $new"
        return 1
    fi
    _zr_say "chroot for PostgreSQL $m ready in $((SECONDS - start))s: $root ($(du -sh --one-file-system "$root" | cut -f1))"
}

# usage: ensure_chroot MAJOR
ensure_chroot() {
    if [ $# -ne 1 ]; then _zr_err "usage: ensure_chroot MAJOR"; return 2; fi
    _zr_suite "$1" >/dev/null || return 2
    if [ "$(id -u)" -ne 0 ]; then _zr_err "ensure_chroot needs root"; return 1; fi
    if ! command -v debootstrap >/dev/null 2>&1; then
        _zr_err "debootstrap is not installed (apt-get install debootstrap)"; return 1
    fi
    mkdir -p "$ZR_CHROOT_CACHE" || { _zr_err "cannot create $ZR_CHROOT_CACHE"; return 1; }
    (
        if ! flock -n 9; then
            _zr_say "waiting for another run to release $ZR_CHROOT_CACHE/chroot-$1.lock"
            flock -w 7200 9 || { _zr_err "timed out waiting for the chroot lock"; exit 1; }
        fi
        _zr_build_locked "$1"
    ) 9>"$ZR_CHROOT_CACHE/chroot-$1.lock"
}

# usage: run_in_chroot MAJOR DIR CMD [ARGS...]
run_in_chroot() {
    if [ $# -lt 3 ]; then _zr_err "usage: run_in_chroot MAJOR DIR CMD [ARGS...]"; return 2; fi
    _zr_suite "$1" >/dev/null || return 2
    if [ "$(id -u)" -ne 0 ]; then _zr_err "run_in_chroot needs root"; return 1; fi
    (
        m=$1 dir=$2
        shift 2
        root=$(_zr_root "$m")
        if [ ! -f "$root/$ZR_CHROOT_MARKER" ]; then
            _zr_err "no complete chroot for PostgreSQL $m in $root: run ensure_chroot $m first"; exit 1
        fi
        if [ ! -d "$dir" ]; then _zr_err "no such directory: $dir"; exit 1; fi
        dir=$(realpath -e "$dir") || exit 1
        case "$dir" in
            /|/proc|/proc/*|/dev|/dev/*|/sys|/sys/*|"$ZR_CHROOT_CACHE"|"$ZR_CHROOT_CACHE"/*)
                _zr_err "refusing to bind-mount $dir into the chroot"; exit 1 ;;
        esac
        # shared lock: any number of runs, but no rebuild while one is going on
        exec 9>>"$ZR_CHROOT_CACHE/chroot-$m.lock" || exit 1
        flock -s -w 7200 9 || { _zr_err "timed out waiting for the lock on $root"; exit 1; }
        _zr_mounted=()
        _zr_child=
        # a signal is passed on to the command, then everything is unmounted
        trap '_zr_umount_list' EXIT
        trap '_zr_stop_child INT; exit 130' INT
        trap '_zr_stop_child TERM; exit 143' TERM
        trap '_zr_stop_child HUP; exit 129' HUP
        _zr_mount_system "$root" || exit 1
        mkdir -p "$root$dir" || { _zr_err "cannot create $root$dir"; exit 1; }
        mount --bind "$dir" "$root$dir" || { _zr_err "cannot bind-mount $dir into $root"; exit 1; }
        _zr_mounted+=("$root$dir")
        envs=(PATH="$ZR_CHROOT_PATH" LANG=C.UTF-8 HOME=/root TERM="${TERM:-dumb}")
        for v in ${ZR_CHROOT_PASS_ENV:-}; do
            [ -n "${!v+x}" ] && envs+=("$v=${!v}")
        done
        # In the background (its stdin kept) so that a signal runs the traps at
        # once; env, chroot and sh exec, so $! is the command itself.
        exec 8<&0
        # shellcheck disable=SC2016
        env -i "${envs[@]}" chroot "$root" /bin/sh -c 'cd "$1" || exit 1; shift; exec "$@"' sh "$dir" "$@" 0<&8 8<&- 9>&- &
        _zr_child=$!
        wait "$_zr_child"
        rc=$?
        _zr_child=
        exit "$rc"
    )
}
