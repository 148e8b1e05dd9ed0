#!/usr/bin/env bash
# The whole GPU check of the CUDA backend in one go (docs/cuda.md), for a machine lent with a
# GPU for a few minutes: configure with CUDA on (only the GPU's own architecture), build only
# what the check needs, run the CUDA tests, then the benchmarks. Everything goes under $OUT
# (default ./gpu-check-out): a log with the time of every step, the test output and XML, the
# kernel bandwidth JSON, the decode benchmarks' JSON, and summary.txt. Each step has its own
# time limit so that a hang cannot eat the machine's time; the whole run aims at < 9 minutes
# on 16 cores (build ~2-3 min, tests < 1 min, benchmarks ~3 min).
#
#   OUT=/path tools/gpu-check.sh            # all steps
#   MOE_GPU_CHECK_SKIP_BENCH=1 tools/gpu-check.sh   # build + tests only
#   MOE_GPU_CHECK_BUDGET_S=480 (default): a benchmark step that could end past this many seconds
#   from the start is skipped (and listed in summary.txt), so the run ends in time.
#
# Defensive about the machine: nvcc from PATH or /usr/local/cuda/bin; missing Debian packages
# are installed through scripts/lib/common.sh only when some are missing (the machine may have
# no network: then it says which are missing and stops).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/gpu-check-out}"
BUILD="${MOE_GPU_BUILD_DIR:-$ROOT/build-gpu}"
JOBS="$(nproc)"
BUDGET="${MOE_GPU_CHECK_BUDGET_S:-480}"
mkdir -p "$OUT"
LOG="$OUT/gpu-check.log"
START=$(date +%s)
failures=()
skipped=()

say() { echo "[$(($(date +%s) - START))s] $*" | tee -a "$LOG"; }
# fits LIMIT_S NAME: true when a step of that limit would still end within the budget.
fits() {
  if (($(date +%s) - START + $1 <= BUDGET)); then return 0; fi
  say "-- $2 skipped: it could end past the ${BUDGET}s budget"
  skipped+=("$2")
  return 1
}
# step NAME LIMIT_S CMD...: runs CMD with a time limit, output to $OUT/NAME.log and the log.
step() {
  local name=$1 limit=$2
  shift 2
  say "== $name (limit ${limit}s): $*"
  local t0
  t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  tail -n 40 "$OUT/$name.log" >>"$LOG"
  say "== $name: exit $rc after $(($(date +%s) - t0))s"
  if ((rc != 0)); then failures+=("$name (exit $rc)"); fi
  return $rc
}

say "MoE Studio GPU check, $(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null || echo 'no git')"
{ nvidia-smi || echo "nvidia-smi: not available"; } >"$OUT/nvidia-smi.txt" 2>&1
head -n 20 "$OUT/nvidia-smi.txt" >>"$LOG"

# --- tools -------------------------------------------------------------------------------------
NVCC="$(command -v nvcc || true)"
[[ -z "$NVCC" && -x /usr/local/cuda/bin/nvcc ]] && NVCC=/usr/local/cuda/bin/nvcc
if [[ -z "$NVCC" ]]; then
  say "FATAL: nvcc not found (PATH, /usr/local/cuda/bin): install the CUDA toolkit first"
  exit 2
fi
PATH="$(dirname "$NVCC"):$PATH"
export PATH
say "nvcc: $NVCC ($("$NVCC" --version | tail -n 2 | head -n 1))"
# The check needs the engine, the CLI and the tests, not the Qt app: a subset of the project's
# package list (scripts/lib/common.sh), installed only when something is missing.
# shellcheck source=scripts/lib/common.sh
source "$ROOT/scripts/lib/common.sh"
# shellcheck disable=SC2034  # read by moe_install_deps
MOE_PACKAGES=(build-essential cmake ninja-build pkg-config libgtest-dev libgmock-dev
  libbenchmark-dev nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libasio-dev
  libssl-dev libsodium-dev)
if ! moe_install_deps >>"$LOG" 2>&1; then
  say "FATAL: Debian packages missing and not installable here; see $LOG"
  exit 2
fi

# The GPU's own architecture only (one device compile instead of two): e.g. 90 on H100/H200.
ARCH="$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' .')"
[[ -z "$ARCH" ]] && ARCH="80;90"
say "CUDA architectures: $ARCH"

# --- build -------------------------------------------------------------------------------------
GEN=(-G Ninja)
[[ -f "$BUILD/CMakeCache.txt" ]] && GEN=()
step configure 120 cmake -S "$ROOT" -B "$BUILD" "${GEN[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DMOE_CUDA=ON -DMOE_BUILD_UI=OFF -DMOE_WERROR=OFF "-DCMAKE_CUDA_ARCHITECTURES=$ARCH" || {
  say "FATAL: configure failed"
  exit 1
}
step build 330 cmake --build "$BUILD" -j"$JOBS" --target test_core_cuda moe-cli \
  bench_cuda_kernels || {
  say "FATAL: build failed"
  exit 1
}

# --- tests -------------------------------------------------------------------------------------
step tests 180 "$BUILD/tests/test_core_cuda" --gtest_color=no \
  "--gtest_output=xml:$OUT/test_core_cuda.xml"
grep -E "^\[  (PASSED|FAILED|SKIPPED) |^\[==========\]" "$OUT/tests.log" | tee -a "$LOG"

if [[ -n "${MOE_GPU_CHECK_SKIP_BENCH:-}" ]]; then
  say "benchmarks skipped (MOE_GPU_CHECK_SKIP_BENCH)"
else
  # --- kernel bandwidth vs the HBM roofline ----------------------------------------------------
  fits 90 bench_kernels && step bench_kernels 90 "$BUILD/bench/bench_cuda_kernels" --benchmark_format=console \
    "--benchmark_out=$OUT/cuda_kernels.json" --benchmark_out_format=json

  # --- decode tok/s on a generated mixtral-mini (Q4_0 and Q4_K_M) --------------------------------
  CLI="$BUILD/app/moe-cli"
  MODELS="${MOE_GPU_MODEL_DIR:-/tmp/moe-gpu-check}"
  mkdir -p "$MODELS"
  for type in q4_0 q4_k_m; do
    m="$MODELS/mixtral-mini-$type.gguf"
    [[ -f "$m" ]] || { fits 120 "make_model_$type" && step "make_model_$type" 120 "$CLI" \
      make-model --preset mixtral-mini --type "$type" --threads "$JOBS" -o "$m"; }
    [[ -f "$m" ]] || continue
    # All experts in VRAM, then half and a quarter (uploads on demand); the CPU beside it once.
    cfgs=("cuda:" "cuda:50%" "cuda:25%")
    [[ $type == q4_0 ]] && cfgs+=("cpu:")
    for cfg in "${cfgs[@]}"; do
      backend=${cfg%%:*} budget=${cfg#*:}
      name="bench_${type}_${backend}${budget:+_${budget%\%}pct}"
      args=(bench -m "$m" --backend "$backend" -p 64 -n 64 -r 2 --json --no-membw -t "$JOBS")
      [[ -n "$budget" ]] && args+=(--vram-budget "$budget")
      fits 60 "$name" || continue
      step "$name" 60 "$CLI" "${args[@]}"
      # Leave the JSON alone in its own file as well (the log has stderr mixed in).
      sed -n '/^{/,/^}/p' "$OUT/$name.log" >"$OUT/$name.json"
    done
  done
fi

# --- summary -------------------------------------------------------------------------------------
{
  echo "GPU check $(date -u +%FT%TZ), $(($(date +%s) - START)) s"
  head -n 12 "$OUT/nvidia-smi.txt"
  grep -E "^\[  (PASSED|FAILED|SKIPPED) |^\[==========\]|^\[  FAILED  \]" "$OUT/tests.log" 2>/dev/null
  grep -E "CudaMatvec|CudaDeviceCopy|CudaPinnedUpload" "$OUT/bench_kernels.log" 2>/dev/null
  for j in "$OUT"/bench_*.json; do
    [[ -s "$j" ]] || continue
    echo "$(basename "$j" .json): $(grep -E '"(decode_tok_per_s|prompt_tok_per_s|backend)"' "$j" | tr -d '\n ' )"
  done
  if ((${#skipped[@]})); then echo "SKIPPED (time budget): ${skipped[*]}"; fi
  if ((${#failures[@]})); then echo "FAILED STEPS: ${failures[*]}"; else echo "all steps passed"; fi
} >"$OUT/summary.txt"
tee -a "$LOG" <"$OUT/summary.txt"
((${#failures[@]} == 0))
