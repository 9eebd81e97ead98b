import re

import pytest

from train.config import ConfigError, config_from_dict, load_config


def write(tmp_path, text):
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_configs_load():
    cfg = load_config("configs/tfidf.yaml")
    assert cfg.name == "tfidf" and cfg.output_dir == "models/tfidf"
    assert cfg.mlflow.registered_model == "vn-china-topics-tfidf"
    assert cfg.model.type == "tfidf"


@pytest.mark.parametrize("text", ["", "# my settings, to come\n", "---\n"])
def test_an_empty_config_is_refused_not_trained_on_defaults(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match=re.escape(f"{path}: the config is empty (fix: start from a shipped one, e.g. "
                                                    f"cat configs/tfidf.yaml >> {path}, and edit it)")):
        load_config(path, ["seed=3"])


def test_unknown_key_names_file_key_and_choices(tmp_path):
    path = write(tmp_path, "model:\n  tfidf:\n    CC: 3\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert str(path) in message and "model.tfidf.CC" in message and "C," in message


def test_wrong_type_and_bad_choice(tmp_path):
    with pytest.raises(ConfigError, match="model.tfidf.C: Input should be a valid number, got 'lots'"):
        load_config(write(tmp_path, "model:\n  tfidf:\n    C: lots\n"))
    with pytest.raises(ConfigError, match="model.type: 'svm' is not allowed"):
        load_config(write(tmp_path, "model:\n  type: svm\n"))


def test_an_error_names_the_line_of_its_key(tmp_path):
    path = write(tmp_path, "# mine\nseed: 1\nmodel:\n  type: tfidf\n  tfidf:\n    min_df: 1\n    C: -1\n"
                           "data:\n  files:\n    - a.jsonl\n    - 7\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}:11: data.files.1: Input should be a valid string, got 7")
    with pytest.raises(ConfigError) as err:
        load_config(path, ["data.files=[a.jsonl]"])
    assert str(err.value).startswith(f"{path}:7: model.tfidf.C: Input should be greater than 0, got -1")
    with pytest.raises(ConfigError) as err:
        load_config(path, ["data.files=[a.jsonl]", "model.tfidf.C=0"])
    assert str(err.value).startswith("--set 'model.tfidf.C=0': model.tfidf.C:")


def test_set_overrides_are_parsed_as_yaml(tmp_path):
    cfg = load_config(write(tmp_path, "seed: 1\n"), ["model.tfidf.C=4", "data.files=[a.jsonl, b.jsonl]", "seed=7"])
    assert cfg.model.tfidf.C == 4.0 and cfg.data.files == ["a.jsonl", "b.jsonl"] and cfg.seed == 7


@pytest.mark.parametrize("item, says", [
    ("model.tfidf.C=1e-3", "got '1e-3' (YAML reads 1e-3 as text; write 1.0e-3)"),
    ("name=2026", "name: Input should be a valid string, got 2026 (YAML read it as a number or true/false; quote it"),
    ("mlflow.alias=no", "got False (YAML read it as a number or true/false; quote it"),
    ("model.tfidf.country_features=1.0e+300", "less than or equal to 10"),
    ("name=" + "a" * 101, "at most 100 characters"),
])
def test_values_yaml_reads_surprisingly_name_the_fix(tmp_path, item, says):
    with pytest.raises(ConfigError, match=re.escape(says)):
        load_config(write(tmp_path, "seed: 1\n"), [item])


def test_a_blank_experiment_name_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="mlflow.experiment"):  # the UI would list an experiment named "   "
        load_config(write(tmp_path, "mlflow:\n  experiment: '   '\n"))


def test_set_with_unknown_key_or_no_value_fails(tmp_path):
    path = write(tmp_path, "seed: 1\n")
    with pytest.raises(ConfigError, match="unknown key 'model.tfidf.nope'"):
        load_config(path, ["model.tfidf.nope=1"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        load_config(path, ["seed"])


def test_value_checks():
    with pytest.raises(ConfigError, match="data.labels"):
        config_from_dict({"data": {"labels": ["economy", "sports"]}})
    with pytest.raises(ConfigError, match="reserved"):
        config_from_dict({"mlflow": {"alias": "latest"}})
    with pytest.raises(ConfigError, match="word_ngrams"):
        config_from_dict({"model": {"tfidf": {"word_ngrams": [3, 1]}}})
    with pytest.raises(ConfigError, match="routes.vi"):
        config_from_dict({"model": {"type": "transformer", "transformer": {"routes": {"vi": "x"}, "encoders": {}}}})
    with pytest.raises(ConfigError, match="predict.cpu_batch_size: Input should be greater than or equal to 1"):
        config_from_dict({"predict": {"cpu_batch_size": 0}})
    with pytest.raises(ConfigError, match="model.tfidf.max_iter"):
        config_from_dict({"model": {"tfidf": {"max_iter": 0}}})
    with pytest.raises(ConfigError, match="seed"):
        config_from_dict({"seed": -1})
    # a transformer chooses its epoch on dev, which a refit on train + dev would train on
    with pytest.raises(ConfigError, match="refit_on_dev: only for model.type tfidf.*fix: set refit_on_dev: false"):
        config_from_dict({"refit_on_dev": True, "model": {"type": "transformer"}})
    assert config_from_dict({"refit_on_dev": True}).refit_on_dev


def test_each_model_type_carries_only_its_own_keys():
    tfidf = config_from_dict({}).to_dict()["model"]
    transformer = load_config("configs/tiny-transformer.yaml").to_dict()["model"]
    assert set(tfidf) == {"type", "tfidf"} and set(transformer) == {"type", "transformer"}
    with pytest.raises(ConfigError, match="unknown key 'model.tfidf'"):
        config_from_dict({"model": {"type": "transformer", "tfidf": {"C": 1}}})


def test_missing_and_invalid_yaml(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(write(tmp_path, "a: [1,\n"))


def test_name_and_output_dir_cannot_climb_out_of_the_project():
    with pytest.raises(ConfigError, match="name: must be a plain name"):
        config_from_dict({"name": "../../../somewhere"})
    with pytest.raises(ConfigError, match="climbs out of the project"):
        config_from_dict({"output_dir": "models/../../elsewhere"})
    assert config_from_dict({"output_dir": "/tmp/explicit"}).output_dir == "/tmp/explicit"
    # an absolute path through `..` names the directory it reaches: a model's `model/..` is the model
    # directory, whose checks then run before training (its scratch directory was named "..", inside `model/`)
    assert config_from_dict({"output_dir": "/tmp/explicit/model/.."}).output_dir == "/tmp/explicit"
    assert config_from_dict({"output_dir": "./models/x/"}).output_dir == "models/x"
    assert config_from_dict({"output_dir": "models/x/../y"}).output_dir == "models/y"  # was "climbs out"


def test_a_set_on_an_anchored_mapping_changes_that_key_alone(tmp_path):
    """`multi: *enc` is the very mapping `&enc` names: a --set on phobert's segmenter changed multi's too."""
    path = write(tmp_path, "model:\n  type: transformer\n  transformer:\n    routes: {vi: phobert, zh: multi, en: multi}\n"
                           "    encoders:\n      phobert: &enc {name_or_path: /models/enc, segmenter: none}\n      multi: *enc\n")
    encoders = load_config(path, ["model.transformer.encoders.phobert.segmenter=pyvi"]).model.transformer.encoders
    assert (encoders["phobert"].segmenter, encoders["multi"].segmenter) == ("pyvi", "none")


def test_a_set_model_type_is_named_beside_the_file_keys_it_leaves_unknown():
    with pytest.raises(ConfigError) as err:
        load_config("configs/tfidf.yaml", ["model.type=transformer"])
    message = str(err.value)
    assert message.startswith("configs/tfidf.yaml:9: unknown key 'model.tfidf' for the model.type given by "
                              "--set 'model.type=transformer'") and "configs/tiny-transformer.yaml" in message


def test_a_config_error_is_one_line_on_stderr_with_no_library_warning():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "train", "--config", "configs/tfidf.yaml", "--set", "model.tfidf.C=-1"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == ["error: --set 'model.tfidf.C=-1': model.tfidf.C: Input should be greater than 0, got -1"]


@pytest.mark.parametrize("alias, why", [("v1", "reserved"), ("V12", "reserved"), ("LATEST", "reserved"),
                                        ("bad alias!", "only letters, digits"), ("", "only letters, digits")])
def test_an_alias_mlflow_would_refuse_after_training_is_refused_at_load(alias, why):
    with pytest.raises(ConfigError, match=f"mlflow.alias: .*{why}"):
        config_from_dict({"mlflow": {"alias": alias}})
    assert config_from_dict({"mlflow": {"alias": "candidate-2_b"}}).mlflow.alias == "candidate-2_b"


def test_label_list_errors_name_the_actual_problem():
    for labels, message in ((["economy", "economy"], "'economy' listed more than once"),
                            (["economy", "sports", "other"], r"unknown labels \['sports'\]"),
                            (["economy", "border_sea"], "no 'other'")):
        with pytest.raises(ConfigError, match=f"data.labels: {message}"):
            config_from_dict({"data": {"labels": labels}})


def test_a_set_that_creates_a_section_of_another_model_type_is_named():
    with pytest.raises(ConfigError, match=r"^--set 'model.transformer.epochs=3': unknown key 'model.transformer'"):
        load_config("configs/tfidf.yaml", ["model.transformer.epochs=3"])


def test_numbers_yaml_1_1_misreads_are_errors_not_other_numbers(tmp_path):
    """017 is octal 15 and 1:30 is 90 to YAML 1.1: a seed or a head would silently be another number."""
    with pytest.raises(ConfigError, match=r":2: not valid YAML \(YAML 1.1 reads 017 as 15 \(fix: write it without"):
        load_config(write(tmp_path, "name: x\nseed: 017\n"))
    with pytest.raises(ConfigError, match=r"--set 'seed=1:30': YAML 1.1 reads 1:30 as 90, a number in base 60"):
        load_config(write(tmp_path, "seed: 1\n"), ["seed=1:30"])
    assert load_config(write(tmp_path, "seed: 1\n"), ["seed=17", "context.head=0x3"]).seed == 17  # read as written
    assert load_config(write(tmp_path, "seed: 00\n")).seed == 0  # zeros are zero either way
    with pytest.raises(ConfigError, match=r"YAML 1.1 reads 1:30.5 as 90.5, a number in base 60"):
        load_config(write(tmp_path, "seed: 1\n"), ["model.tfidf.C=1:30.5"])
