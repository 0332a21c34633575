#!/usr/bin/env bash
# Runs a command as if on an AVX2-only CPU (no AVX-512, VNNI, bfloat16 or AMX): the libraries'
# kernel choice follows the masked CPUID (benchmarks/as_avx2.c); the machine's speed per core does
# not change. For timing the precision modes of issue 38 on a CPU that has more than AVX2:
#
#     bash benchmarks/as_avx2.sh .venv/bin/python benchmarks/speed.py --precision-only ...
#
# Needs gcc and a CPU and kernel that can make CPUID fault (`cpuid_fault` in /proc/cpuinfo).
# Programs that install their own SIGSEGV handler (Python's faulthandler: `-X faulthandler`,
# `-X dev`, PYTHONFAULTHANDLER, PYTHONDEVMODE) cannot run under it. The library is built into the
# user's own cache folder, never read from a shared one.
set -euo pipefail
if [ $# -eq 0 ]; then
    echo "usage: bash benchmarks/as_avx2.sh COMMAND [ARGUMENT...]" >&2
    exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if ! grep -qw cpuid_fault /proc/cpuinfo 2>/dev/null; then
    echo "as_avx2: this CPU or kernel cannot make CPUID fault (no cpuid_fault in /proc/cpuinfo)" >&2
    exit 70
fi
if ! command -v gcc >/dev/null; then
    echo "as_avx2: needs gcc to build benchmarks/as_avx2.c" >&2
    exit 70
fi
cache="${XDG_CACHE_HOME:-$HOME/.cache}/spert_mt"
mkdir -p "$cache"
if [ ! -O "$cache" ] || [ -n "$(find "$cache" -maxdepth 0 -perm /022)" ]; then
    echo "as_avx2: $cache must be yours and writable by you alone (it holds the preloaded library)" >&2
    exit 70
fi
build=(gcc -O2 -shared -fPIC)
library="$cache/as_avx2-$( (cat "$here/as_avx2.c"; echo "${build[*]}") | sha256sum | cut -c1-16).so"
if ! { [ -O "$library" ] && [ -s "$library" ]; }; then
    trap 'rm -f "$library.$$"' EXIT
    "${build[@]}" -o "$library.$$" "$here/as_avx2.c"
    mv -f "$library.$$" "$library"
    trap - EXIT
fi
unset PYTHONFAULTHANDLER PYTHONDEVMODE
export LD_PRELOAD="$library${LD_PRELOAD:+:$LD_PRELOAD}"
exec "$@"
