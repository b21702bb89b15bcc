# Sourced by bench/run_*.sh: what every benchmark run shares. POSIX sh.
# Takes the script's first argument, the build directory (default: build), off "$@".

build_dir=${1:-build}
if [ $# -gt 0 ]; then shift; fi

# bench_exe NAME: sets $exe to BUILD_DIR/bench/NAME, or stops with how to build it.
bench_exe() {
  exe="$build_dir/bench/$1"
  if [ ! -x "$exe" ]; then
    echo "$(basename "$0"): $exe not found; build with: cmake -B $build_dir && cmake --build $build_dir --target $1" >&2
    exit 1
  fi
}

# LibTorch at its best on one core: glibc malloc tuned so that its large temporaries are neither
# mmap'ed nor trimmed on every step.
tune_malloc_for_libtorch() {
  export GLIBC_TUNABLES=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824
}

# One thread per process (Kokkos OpenMP, LibTorch, OpenBLAS); mpirun as root in containers.
export OMP_NUM_THREADS=1 OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
