"""The logged TF-IDF model is portable: it loads and tags in a fresh virtual environment that
holds only the model's own requirements.txt, with nothing from this checkout importable.

This installs packages into a new venv (from pip's cache or the configured index), so it is
the slowest test here; it is skipped only where this Python cannot create a venv at all.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEXTS = [
    "Kim ngạch thương mại Việt - Trung đạt 200 tỷ USD",   # vi
    "Hai nước ký kết 14 văn kiện hợp tác",
    "中越两党理论研讨会在河内举行",                           # zh (simplified)
    "中越邊界聯合巡邏",                                      # zh (traditional, normalised)
    "Vietnam and China agreed to expand rail links across the border",  # en
    "The central bank kept interest rates unchanged on Tuesday",
]
FORBIDDEN = ("torch", "transformers", "pyvi")

# Run inside the fresh venv, with cwd = the copied model's parent folder.
SCRIPT = r"""
import json, sys
from pathlib import Path

model_path = Path(sys.argv[1]).resolve()
for name in ("train", "vnzh_runtime"):
    try:
        __import__(name)
    except ImportError:
        pass
    else:
        raise SystemExit(f"{name} is importable before loading the model: {sys.modules[name].__file__}")

import mlflow.pyfunc
import pandas as pd

model = mlflow.pyfunc.load_model(str(model_path))
import vnzh_runtime
try:
    import train
except ImportError:
    train_importable = False
else:
    train_importable = True
texts = json.loads(Path(sys.argv[2]).read_text(encoding="utf-8"))
out = model.predict(pd.DataFrame({"text": texts}))
print(json.dumps({
    "vnzh_runtime": str(Path(vnzh_runtime.__file__).resolve()),
    "train_importable": train_importable,
    "sys_path": sys.path,
    "rows": out.to_dict(orient="records"),
}, ensure_ascii=False, default=float))
"""


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def clean_env(venv: Path | None = None, keep_pip: bool = False) -> dict[str, str]:
    """No PYTHONPATH/PYTHONHOME/VIRTUAL_ENV from the caller; pip's own settings kept only to install."""
    keep = {"HOME", "PATH", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "SSL_CERT_FILE", "SSL_CERT_DIR",
            "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}
    env = {k: v for k, v in os.environ.items() if k in keep or (keep_pip and k.startswith("PIP_"))}
    if venv is not None:
        env["PATH"] = str(venv_python(venv).parent) + os.pathsep + env.get("PATH", "")
    env["PYTHONIOENCODING"] = "utf-8"
    env["PYTHONNOUSERSITE"] = "1"
    env["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    return env


@pytest.fixture(scope="module")
def outside():
    """A folder outside the repository (the repository must not be an ancestor of it)."""
    folder = Path(tempfile.mkdtemp(prefix="vnzh-portable-")).resolve()
    assert ROOT not in folder.parents
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def fresh_venv(outside):
    """A new venv without system site-packages; skip (fast) only if one cannot be created here."""
    if importlib.util.find_spec("venv") is None or importlib.util.find_spec("ensurepip") is None:
        pytest.skip("this Python cannot create a virtual environment (no venv/ensurepip module)")
    venv = outside / "venv"
    made = subprocess.run([sys.executable, "-m", "venv", str(venv)], capture_output=True, text=True,
                          env=clean_env(), timeout=300)
    if made.returncode != 0 or not venv_python(venv).exists():
        pytest.skip(f"cannot create a virtual environment: {(made.stderr or made.stdout).strip()[-300:]}")
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    return venv


def test_logged_model_loads_and_tags_in_a_fresh_venv(fresh_venv, outside, tfidf_run, tfidf_predictor, mlflow_uri):
    import mlflow

    # 1. The logged model's artifact directory, copied outside the repository.
    assert tfidf_run.model_uri, "the tfidf config logs a model"
    mlflow.set_tracking_uri(mlflow_uri)
    downloaded = Path(mlflow.artifacts.download_artifacts(artifact_uri=tfidf_run.model_uri))
    model_path = outside / "model"
    shutil.copytree(downloaded, model_path)
    assert (model_path / "MLmodel").is_file()
    assert (model_path / "code" / "vnzh_runtime" / "pyfunc.py").is_file()

    # 2. Its requirements name nothing of the transformer runtime and no local (+cpu) versions.
    requirements = [line.strip() for line in (model_path / "requirements.txt").read_text().splitlines()
                     if line.strip() and not line.strip().startswith("#")]
    names = {line.split(";")[0].split("[")[0].split("=")[0].split("<")[0].split(">")[0].split("!")[0]
             .split("~")[0].strip().lower() for line in requirements}
    assert "mlflow" in names
    for forbidden in FORBIDDEN:
        assert forbidden not in names, f"{forbidden} in the TF-IDF model's requirements: {requirements}"
    assert not any("+cpu" in line for line in requirements), requirements

    # 3. Exactly those requirements in the fresh venv.
    python = venv_python(fresh_venv)
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", str(model_path / "requirements.txt")],
        capture_output=True, text=True, cwd=outside, env=clean_env(fresh_venv, keep_pip=True), timeout=1800)
    assert installed.returncode == 0, f"pip install -r requirements.txt failed:\n{installed.stdout[-2000:]}\n{installed.stderr[-3000:]}"

    # 4. Load and predict there: cwd outside the repo, no PYTHONPATH, the repo not importable.
    script = outside / "predict.py"
    script.write_text(SCRIPT, encoding="utf-8")
    texts_file = outside / "texts.json"
    texts_file.write_text(json.dumps(TEXTS, ensure_ascii=False), encoding="utf-8")
    ran = subprocess.run([str(python), str(script), str(model_path), str(texts_file)], capture_output=True,
                         text=True, encoding="utf-8", cwd=outside, env=clean_env(fresh_venv), timeout=600)
    assert ran.returncode == 0, f"the model did not load or predict in the fresh venv:\n{ran.stdout[-2000:]}\n{ran.stderr[-4000:]}"
    result = json.loads(ran.stdout.strip().splitlines()[-1])

    assert not result["train_importable"], "the training package leaked into the fresh venv"
    assert Path(result["vnzh_runtime"]).is_relative_to(model_path / "code" / "vnzh_runtime"), result["vnzh_runtime"]
    assert not any(p and Path(p).resolve() == ROOT for p in result["sys_path"]), result["sys_path"]

    # 5. The same output as the project's own Predictor (what `serve tag` writes).
    expected = tfidf_predictor.predict(TEXTS)
    rows = result["rows"]
    assert [r["label"] for r in rows] == [e["label"] for e in expected]
    assert [r["lang"] for r in rows] == [e["lang"] for e in expected]
    assert [r["scores"] for r in rows] == [e["scores"] for e in expected]
