"""Writing a model directory (the runtime's `vnzh_runtime.spec` reads it), without destroying anything.

    >>> target = check_output_dir("models/tfidf", overwrite=False)   # before any MLflow run
    >>> check_creatable(target, "models/tfidf")                       # and once: it writes a probe
    >>> save_model_dir(target, config, trainer, {"train_size": 3698}, overwrite=False)

The directory is built beside its target and renamed into place only when complete, so a
failed run leaves the old model as it was. Training never deletes a directory it did not
write: an existing non-empty directory that is not a model directory is refused, and
replacing a model directory takes `--overwrite`.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import yaml

from vnzh_runtime.errors import UserError
from vnzh_runtime.folders import few, foreign
from vnzh_runtime.permissions import umask_mode
from vnzh_runtime.spec import META_FILE, MODEL_SUBDIR, SPEC_FILE, enclosing_model_dir, is_model_dir, write_json, write_spec


WRITTEN = {MODEL_SUBDIR, SPEC_FILE, META_FILE, "config.yaml"}  # a model directory's own entries, as save_model_dir writes them


def check_output_dir(output_dir: str, overwrite: bool) -> Path:
    """The output directory, if training may write it; otherwise one line saying why and the fix.
    A symlink names the directory it points to: that one is replaced, the link is kept."""
    try:
        path = Path(output_dir).resolve(strict=False) if Path(output_dir).is_symlink() else Path(output_dir)
    except (RuntimeError, OSError):  # a link that leads back to itself (RuntimeError before Python 3.13)
        raise UserError(f"output_dir {output_dir}: a symbolic link that leads round in a loop "
                        "(fix: point it at a directory, or --set output_dir=<a new directory>)") from None
    inside = enclosing_model_dir(path)
    if inside is not None:  # an unlisted file under it would make that model refuse to load
        raise UserError(f"output_dir {output_dir}: lies inside the model directory {inside} "
                        "(fix: --set output_dir=<a directory outside it>)")
    if path.exists() and not path.is_dir():
        raise UserError(f"output_dir {output_dir}: is a file (fix: --set output_dir=<a new directory>)")
    if path.is_dir() and os.path.ismount(path):  # found only after training, when the rename fails (EBUSY)
        raise UserError(f"output_dir {output_dir}: is a mount point, which a finished model cannot be renamed onto "
                        f"(fix: --set output_dir={output_dir.rstrip('/')}/<name>)")
    if path.is_dir() and any(path.iterdir()):
        if not is_model_dir(path):
            raise UserError(f"output_dir {output_dir}: exists and is not a model directory; refusing to replace it "
                            "(fix: --set output_dir=<a new directory>)")
        others = foreign((entry.name for entry in path.iterdir()), WRITTEN.__contains__)
        others = others or unlisted_model_files(path)  # inside model/ too: a user's data or checkpoints
        if others:  # replacing the directory would delete them: a user's notes, even this run's own data
            raise UserError(f"output_dir {output_dir}: holds {few(others)}, which training did not write and replacing "
                            "the model would delete (fix: move them out, or --set output_dir=<a new directory>)")
        if not overwrite:
            raise UserError(f"output_dir {output_dir}: holds a model from an earlier run "
                            "(fix: pass --overwrite to replace it, or --set output_dir=<a new directory>)")
    return path


def unlisted_model_files(path: Path) -> list[str]:
    """Files under model/ that the directory's spec.json does not list (every file training writes there
    is listed with its digest), as `model/<name>`."""
    try:
        listed = json.loads((path / SPEC_FILE).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        listed = None
    if not isinstance(listed, dict):  # an older format's, a damaged spec, or another tool's checkpoint
        raise UserError(f"{path}: its model/ folder has no spec.json listing its files, so which of them training "
                        "wrote cannot be told, and --overwrite could delete yours (fix: move or delete the "
                        "directory yourself, or --set output_dir=<a new directory>)")
    found = (p.relative_to(path).as_posix() for p in sorted((path / MODEL_SUBDIR).rglob("*")) if not p.is_dir())
    return [name for name in found if name not in listed]


def interrupted_note(output_dir: str, started: float) -> str:
    """What a training interrupted at any point left in its model directory (the new model is moved
    into place whole, after tuning, and evaluated and registered after that)."""
    spec = Path(output_dir) / SPEC_FILE
    if not spec.is_file():
        return f"interrupted; no model was saved in {output_dir}"
    if spec.stat().st_mtime < started:
        return f"interrupted; {output_dir} still holds the previous model, untouched"
    return (f"interrupted after the new model was saved in {output_dir}; its evaluation or MLflow registration may be "
            "missing (train again with --overwrite for both)")


def check_creatable(path: Path, output_dir: str) -> None:
    """One line now, not after training, where the directory (and the one it is built in beside it)
    cannot be made: a file on the way, a read-only or virtual file system. A probe directory is
    made and removed in the nearest existing folder above it: the model is built beside the
    directory and moved into place, so its parent must take new entries, not only the directory."""
    nearest = next(folder for folder in path.absolute().parents if folder.exists())
    if not nearest.is_dir():
        raise UserError(f"output_dir {output_dir}: {nearest} is a file, not a directory "
                        "(fix: --set output_dir=<a new directory>)")
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".vnzh-probe-", dir=nearest))
    except OSError as err:
        raise UserError(f"output_dir {output_dir}: cannot create it in {nearest} ({err.strerror}) "
                        "(fix: --set output_dir=<a directory you can write>)") from None


def save_model_dir(target: Path, config, trainer, meta: dict, overwrite: bool, spec: dict | None = None) -> Path:
    """Write model/, spec.json (with `spec`'s settings), config.yaml and meta.json beside `target`, then move
    it into place."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.partial-", dir=target.parent))
    os.chmod(staging, umask_mode(0o777))  # mkdtemp's 0700 would keep the model from other users and services
    try:
        (staging / MODEL_SUBDIR).mkdir()
        section = trainer.save(staging / MODEL_SUBDIR)
        options = config.predict.model_dump(exclude={"threshold"})
        write_spec(staging, {"model_type": config.model.type, "labels": list(config.data.labels), "task": config.task,
                             "context": {"head": config.context.head}, "options": options,
                             "threshold": {"value": config.predict.threshold}, "model": section, **(spec or {})})
        (staging / "config.yaml").write_text(yaml.safe_dump(config.to_dict(), allow_unicode=True, sort_keys=False),
                                             encoding="utf-8")
        write_json(staging / META_FILE, {"model_type": config.model.type, "labels": list(config.data.labels), **meta})
        install_dir(staging, target, overwrite)  # where the target changed during training, it keeps the model aside
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):  # the disk, not a bug: one line
            # named as the user named it: `target` may be the scratch directory the model is tuned in
            raise UserError(f"output_dir {config.output_dir}: cannot write the model ({err.strerror}); any model there "
                            "before is as it was "
                            "(fix: free space, or --set output_dir=<a directory on another disk>)") from None
        raise
    return target


def lock_path(target: Path) -> Path:
    real = target.resolve()
    return real.parent / f".{real.name}.lock"


def lock_output(target: Path):
    """Hold the right to write `target` for as long as the returned file stays open (the training's
    run): two trainings into one directory would each log the directory the other just moved into
    place, registering one run's model under the other's name. An flock, released when the process
    ends however it ends, on `.<name>.lock` beside the directory's real path (a symlink to it is the
    same directory): there, every training into it sees the same lock whatever its TMPDIR, user or
    private /tmp, and on a shared file system whatever its host. Opened read-only, so that another
    user's training into a shared folder can take the same lock. `output_lock` removes the file
    when the training ends; a lock taken on a file removed meanwhile is taken again on the new one."""
    import fcntl

    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        handle = os.fdopen(os.open(path, os.O_RDONLY | os.O_CREAT, 0o644), "rb")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise UserError(f"{target}: another training is writing this model directory now; wait for it to "
                            "finish, or name another (--set output_dir=...)") from None
        try:
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                return handle
        except FileNotFoundError:  # the training before removed it as this one opened it
            pass
        handle.close()


@contextmanager
def output_lock(target: Path):
    """`lock_output` for a block; its file is removed at the end, so that nothing is left beside the model."""
    handle = lock_output(target)
    try:
        yield
    finally:
        try:
            lock_path(target).unlink()  # before the lock is let go: another training then locks a new file
        except OSError:
            pass
        handle.close()


def leftovers(target: Path) -> list[Path]:
    """Scratch directories beside `target` that a killed training (SIGKILL, the OOM killer, a power
    cut) could not remove: `.<name>.partial-*`, `.tuning-*`, `.old-*`. Named, not removed: another
    training into the same place may be using them right now."""
    kinds = ("partial", "tuning", "old")
    return sorted(p for kind in kinds for p in target.parent.glob(f".{target.name}.{kind}-*") if p.is_dir())


@contextmanager
def tuning_dir(target: Path):
    """A fresh directory beside `target` to build and tune a model in (same file system, so a finished model
    moves by rename), removed after."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.tuning-", dir=target.parent))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def install_dir(finished: Path, target: Path, overwrite: bool) -> Path:
    """Move a finished model directory (written beside `target`) into place, on the terms training began on;
    where the target no longer meets them (a user's file appeared in it), the model is kept aside."""
    try:
        check_output_dir(str(target), overwrite)
    except UserError as err:
        raise kept_aside(finished, target, err) from None
    replace_dir(finished, target)
    return target


def kept_aside(finished: Path, target: Path, refusal: UserError) -> UserError:
    """The refusal, once the finished model is renamed `<target>.trained` (or `-2`, ...) beside the target:
    minutes or hours of training are not deleted because the target changed while they ran."""
    number = 1
    while os.path.lexists(kept := target.with_name(f"{target.name}.trained" + (f"-{number}" if number > 1 else ""))):
        number += 1
    finished.rename(kept)
    why = re.sub(r"\s*\(fix: [^()]*\)$", "", str(refusal))  # its fix (another directory) is for a run not yet made
    return UserError(f"{why}; the model this run trained is kept in {kept} (fix: move it where it belongs, "
                     f"e.g. mv {kept} <a new directory>)")


def replace_dir(new: Path, target: Path) -> None:
    """Move `new` to `target`; an old model there is moved aside first and removed last."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{new.name.rsplit('-', 1)[-1]}")
        target.rename(old)
    new.rename(target)
    if old is not None:
        shutil.rmtree(old)


def update_spec(directory: Path, **changes) -> dict:
    """Rewrite spec.json with `changes`; the digests are computed again."""
    from vnzh_runtime.spec import read_spec

    spec = read_spec(directory)
    spec.pop("files", None)
    spec.pop("format_version", None)
    return write_spec(directory, {**spec, **changes})
