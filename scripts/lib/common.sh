# Shared by scripts/test and scripts/demo: locate the repo, install missing Debian packages,
# configure and build. Sourced, not run.
MOE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MOE_BUILD="${MOE_BUILD_DIR:-$MOE_ROOT/build}"

# Debian 12 packages the build, the tests and the app need (by name; nothing else is fetched).
MOE_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libasio-dev libssl-dev libsodium-dev
  libsecret-1-dev gnome-keyring dbus-daemon
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6sql6-sqlite libgl-dev libxkbcommon-dev
  xvfb xauth fonts-dejavu-core
  iproute2 util-linux nftables
)

moe_install_deps() {
  local missing=()
  for p in "${MOE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  echo "moe: installing Debian packages: ${missing[*]}"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -q
  $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# moe_build [extra cmake args...]
moe_build() {
  local gen=()
  command -v ninja >/dev/null && gen=(-G Ninja)
  if [[ -f "$MOE_BUILD/CMakeCache.txt" ]]; then gen=(); fi
  cmake -S "$MOE_ROOT" -B "$MOE_BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@"
  cmake --build "$MOE_BUILD" -j"$(nproc)"
}
