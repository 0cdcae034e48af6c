# Sourced by test/run.sh and test/demo.sh: installs, on a fresh Debian 12
# machine, the packages that building and testing zenml_rbac need.
PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-pgtap \
libtap-parser-sourcehandler-pgtap-perl libipc-run-perl make gcc cppcheck \
pgbouncer python3-psycopg libssl-dev openssl"

# usage: ensure_packages [more packages than PACKAGES...]
ensure_packages() {
    local missing=""
    for p in $PACKAGES "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing packages:$missing (run as root, or install them with apt-get)" >&2
        return 1
    fi
    echo "installing:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
}

build_and_install() {
    make -s clean
    make -s
    make -s install
}
