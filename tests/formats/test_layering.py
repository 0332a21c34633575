"""`formats/` sits below the dataset readers: it never imports them (nor anything above them)."""

import subprocess
import sys

from tests.conftest import PROJECT_ROOT

# The package's __init__ imports every part to register them with AllenNLP, so importing
# `spert_mt_plugin.formats` as such would load the readers through it. The child process stands
# the package in without running its __init__, then imports every module of formats/.
IMPORT_FORMATS = """
import importlib, importlib.util, pkgutil, sys
spec = importlib.util.spec_from_file_location(
    "spert_mt_plugin", "spert_mt_plugin/__init__.py", submodule_search_locations=["spert_mt_plugin"]
)
sys.modules["spert_mt_plugin"] = importlib.util.module_from_spec(spec)
import spert_mt_plugin.formats as formats
names = [info.name for info in pkgutil.iter_modules(formats.__path__, "spert_mt_plugin.formats.")]
for name in names:
    importlib.import_module(name)
print(",".join(names))
print(",".join(sorted(name for name in sys.modules if name.startswith("spert_mt_plugin."))))
"""


def test_formats_import_nothing_from_the_readers_or_above():
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_FORMATS], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    formats_modules, loaded = (line.split(",") for line in result.stdout.strip().splitlines())
    assert "spert_mt_plugin.formats.spert_documents" in formats_modules and len(formats_modules) >= 8
    outside = {name for name in loaded if not name.startswith("spert_mt_plugin.formats")}
    assert outside == {"spert_mt_plugin.labels"}
