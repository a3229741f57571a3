"""The package's ground rules: cheap import, the numba door, discovery, the command line."""

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import sklearn_losses
from sklearn_losses import FAMILIES
from sklearn_losses.__main__ import main
from sklearn_losses.utils import all_estimators, all_families

PACKAGE_DIR = Path(sklearn_losses.__file__).parent


def _run_python(code, env=None, cwd=None, read_only=()):
    command = [sys.executable, "-c", code]
    if read_only and os.getuid() == 0:
        # root ignores file permissions: mount the folders read-only in a private
        # mount namespace instead, as a read-only install would be.
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: cannot make a read-only mount")
        mounts = " && ".join(
            f"mount --bind {p} {p} && mount -o remount,bind,ro {p}" for p in read_only
        )
        command = ["unshare", "-m", "sh", "-c", f'{mounts} && exec "$0" "$@"', *command]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_import_does_not_load_torch_or_families():
    code = (
        "import sys, sklearn_losses, sklearn_losses.utils;"
        "bad = [m for m in ('torch', 'skorch', 'dask') if m in sys.modules];"
        "assert not bad, bad"
    )
    result = _run_python(code)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_linear_parts_of_families_do_not_import_torch(family):
    subpackage = FAMILIES[family][0]
    if family not in all_families():
        pytest.skip(f"{family} not built")
    result = _run_python(
        f"import sys, sklearn_losses.{subpackage}; "
        "bad = [m for m in ('torch', 'dask') if m in sys.modules]; assert not bad, bad"
    )
    assert result.returncode == 0, result.stderr


def _make_read_only(root):
    for path in [root, *root.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def test_numba_kernels_work_from_read_only_install(tmp_path):
    """Every family kernel module, plus a probe kernel, imports and runs read-only."""
    site = tmp_path / "site"
    shutil.copytree(
        PACKAGE_DIR, site / "sklearn_losses", ignore=shutil.ignore_patterns("__pycache__")
    )
    (site / "sklearn_losses" / "_probe_kernel.py").write_text(
        "from sklearn_losses._jit import njit\n"
        "@njit\n"
        "def total(a):\n"
        "    s = 0.0\n"
        "    for v in a:\n"
        "        s += v\n"
        "    return s\n"
    )
    kernel_modules = sorted(
        ".".join(p.relative_to(site).with_suffix("").parts)
        for p in (site / "sklearn_losses").rglob("_kernels.py")
    )
    home = tmp_path / "home"
    home.mkdir()
    _make_read_only(site)
    _make_read_only(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(HOME=str(home), PYTHONPATH=str(site), PYTHONDONTWRITEBYTECODE="1")
    code = (
        "import importlib, numpy as np, sklearn_losses, sklearn_losses._probe_kernel as k;"
        f"assert sklearn_losses.__file__.startswith({str(site)!r}), sklearn_losses.__file__;"
        "assert k.total(np.arange(4.0)) == 6.0;"
        f"[importlib.import_module(m) for m in {kernel_modules!r}];"
        "print('ok')"
    )
    result = _run_python(code, env=env, cwd=str(tmp_path), read_only=(site, home))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_discovery_matches_family_exports():
    for _, module in all_families().items():
        for name in module.__all__:
            assert hasattr(module, name)
    names = [name for name, _ in all_estimators()]
    assert names == sorted(set(names))
    with pytest.raises(ValueError, match="type_filter"):
        all_estimators("spaceship")


def test_cli_list(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for family in FAMILIES:
        assert family in out


def test_cli_reproduce_reports_unbuilt_family(capsys, monkeypatch):
    # every family is built now; pretend one is not, as in a partial checkout
    import sklearn_losses.reproduce as reproduce

    family = sorted(FAMILIES)[0]
    status = {f: f != family for f in FAMILIES}
    monkeypatch.setattr(reproduce, "available", lambda: status)
    assert main(["reproduce", family, "--quick"]) == 1
    assert "not available" in capsys.readouterr().out


def test_cli_help():
    result = subprocess.run(
        [sys.executable, "-m", "sklearn_losses", "--help"], capture_output=True, text=True
    )
    assert result.returncode == 0
    assert "reproduce" in result.stdout


def test_torch_door_resolves_and_checks_devices():
    torch = pytest.importorskip("torch")
    from sklearn_losses._torch import resolve_device

    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    for bad in ("gpu", "tpu:0", "mps"):
        with pytest.raises(ValueError, match="'auto', 'cpu', 'cuda' or 'cuda:N'"):
            resolve_device(bad)


def test_build_module_draws_from_its_generator_only():
    torch = pytest.importorskip("torch")
    from functools import partial

    from sklearn_losses._torch import build_module, mlp

    factory = partial(mlp, 5, (7,), "relu", 2, batch_norm=True)
    before = torch.random.get_rng_state()
    a = build_module(factory, torch.Generator().manual_seed(1))
    b = build_module(factory, torch.Generator().manual_seed(1))
    c = build_module(factory, torch.Generator().manual_seed(2))
    assert torch.equal(before, torch.random.get_rng_state())
    sa, sb, sc = (m.state_dict() for m in (a, b, c))
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not torch.equal(sa["0.weight"], sc["0.weight"])
    # PyTorch's default initialisation: weights and biases within 1/sqrt(fan_in)
    bound = 1 / np.sqrt(5)
    assert float(sa["0.weight"].abs().max()) <= bound and float(sa["0.bias"].abs().max()) <= bound
    assert torch.equal(sa["2.weight"], torch.ones(7))  # batch norm reset, not drawn


def test_ruff_passes_on_tree():
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff not installed")
    root = PACKAGE_DIR.parent
    if not (root / "pyproject.toml").exists():
        pytest.skip("not a source checkout")
    result = subprocess.run([ruff, "check", str(root)], capture_output=True, text=True, cwd=root)
    assert result.returncode == 0, result.stdout + result.stderr
