"""What keeps a training's results whole when others train or signals arrive."""

import os
import signal

import pytest

from train.modeldir import lock_output
from train.tracking import signals_deferred
from vnzh_runtime.errors import UserError


def test_a_second_training_into_the_same_model_directory_is_refused_while_the_first_runs(tmp_path, monkeypatch, capsys):
    """Two at once each logged the directory the other had just moved into place: one run's model was
    registered under the other's run, and one model was lost (a hostile ops user, 1 race in 3)."""
    from train.__main__ import main as train_main

    target = tmp_path / "models" / "race"
    held = lock_output(target)
    with pytest.raises(UserError, match="another training is writing this model directory now"):
        lock_output(target)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'm.db'}")
    assert train_main(["--config", "configs/tfidf.yaml", "--set", f"output_dir={target}"]) == 2
    assert "another training is writing this model directory now" in capsys.readouterr().err
    held.close()  # the first one ends: the next may write
    lock_output(target).close()


def test_a_signal_during_registration_is_delivered_after_it():
    """SIGTERM inside MLflow's registration left a version without its alias and a run RUNNING forever."""
    reached = []
    with pytest.raises(KeyboardInterrupt):
        with signals_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            reached.append("the block finished")
    assert reached == ["the block finished"]
