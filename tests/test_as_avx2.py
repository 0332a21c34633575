"""benchmarks/as_avx2.sh: the command it runs sees an AVX2-only CPU, and still dies of a real crash."""

import os
import shutil
import signal
import subprocess
import sys

import pytest

from spert_mt_plugin.inference.precision import cpu_flags
from tests.conftest import PROJECT_ROOT

SCRIPT = str(PROJECT_ROOT / "benchmarks" / "as_avx2.sh")
CAPABILITY = "import torch; print(torch.backends.cpu.get_cpu_capability())"


can_mask = pytest.mark.skipif(
    "cpuid_fault" not in cpu_flags() or shutil.which("gcc") is None,
    reason="needs gcc and a CPU whose CPUID can fault",
)


def _run(tmp_path, *command):
    environment = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    return subprocess.run(["bash", SCRIPT, *command], env=environment, capture_output=True, text=True)


@can_mask
@pytest.mark.skipif("avx512f" not in cpu_flags(), reason="nothing to hide on a CPU without AVX-512")
def test_torch_picks_its_avx2_kernels_under_the_mask_and_its_avx512_ones_without(tmp_path):
    masked = _run(tmp_path, sys.executable, "-c", CAPABILITY)
    assert masked.returncode == 0, masked.stderr[-2000:]
    assert masked.stdout.strip() == "AVX2"
    plain = subprocess.run([sys.executable, "-c", CAPABILITY], capture_output=True, text=True, check=True)
    assert plain.stdout.strip().startswith("AVX512")


@can_mask
def test_a_real_segmentation_fault_still_kills_the_command(tmp_path):
    result = _run(tmp_path, sys.executable, "-c", "import ctypes; ctypes.string_at(0)")
    assert result.returncode == -signal.SIGSEGV


@can_mask
def test_a_segmentation_fault_signal_sent_by_a_process_still_kills_the_command(tmp_path):
    result = _run(tmp_path, sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    assert result.returncode == -signal.SIGSEGV


def test_without_a_command_it_prints_its_usage(tmp_path):
    result = _run(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "usage: bash benchmarks/as_avx2.sh COMMAND [ARGUMENT...]"
