"""`serve tag` output: stopped at once by a signal with workers running, never written over a file
it did not create, streamed to standard output, and given the permissions a new file would get."""

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from serve.files import tag_file
from serve.workers import OrderedWorkers, WorkerDied
from vnzh_runtime.errors import UserError


def _digest(path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _exit_now(task):
    os._exit(3)


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGTERM to the group", "SIGHUP to the group"])
def test_a_signal_with_two_workers_stops_at_once_and_no_file_is_written_over(tfidf_run, tmp_path, how):
    out = tmp_path / "out.jsonl"
    src = tmp_path / "out.jsonl.partial"  # the user's input happens to bear the name a partial output would take
    src.write_text("".join(f"Kim ngạch thương mại tăng {i}%\n" for i in range(400_000)), encoding="utf-8")  # an article
    notes = tmp_path / "out.jsonl.partial-2"
    notes.write_text("my notes\n", encoding="utf-8")
    before = _digest(src)
    # Ctrl-C as a terminal sends it: a test session started in the background by a shell inherits
    # SIGINT ignored, and so would the child, which then rightly runs to the end.
    child = subprocess.Popen([sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", str(src),
                              "--output", str(out), "--quiet", "--workers", "2"], stderr=subprocess.PIPE, text=True,
                             start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 60
    while not [p for p in tmp_path.iterdir() if p.name.startswith(".out.jsonl.") and p.stat().st_size > 0]:
        assert time.time() < deadline, "no output written within a minute"
        time.sleep(0.1)
    sent = time.time()
    if how.endswith("to the group"):  # a service manager, or a closed terminal: the workers get it too
        os.killpg(child.pid, getattr(signal, how.split()[0]))
    else:
        child.send_signal(getattr(signal, how))
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130 and time.time() - sent < 10, err
    assert "Traceback" not in err and "interrupted" in err
    assert _digest(src) == before and notes.read_text(encoding="utf-8") == "my notes\n" and not out.exists()
    kept = tmp_path / "out.jsonl.partial-3"
    written = kept.read_text(encoding="utf-8").splitlines()
    assert f"{len(written)} records written to {kept}; {out} was not written" in err and written
    # its name makes it a raw article (not .jsonl): ids are <stem>:<line>, in order
    assert [json.loads(line)["id"] for line in written] == [f"out.jsonl:{i + 1}" for i in range(len(written))]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no hidden temporary file left


def test_ordered_workers_keep_order_and_a_dead_worker_is_an_error_not_a_hang():
    with OrderedWorkers(2, work=str.upper, method="spawn") as workers:
        assert list(workers.imap(["a", "b", "c", "d", "e"])) == ["A", "B", "C", "D", "E"]
    started = time.time()
    with pytest.raises(WorkerDied, match="died"), OrderedWorkers(2, work=_exit_now) as workers:
        list(workers.imap(range(5)))
    assert time.time() - started < 10


def test_dash_and_dev_stdout_stream_the_tags_and_a_shell_append_still_appends(tfidf_run, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": "Kim ngạch thương mại Việt - Trung"}) + "\n" for i in range(5)),
                   encoding="utf-8")
    command = [sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--quiet"]
    for target in ("-", "/dev/stdout"):
        done = subprocess.run([*command, "--output", target], capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == [0, 1, 2, 3, 4]
    assert not (tmp_path / "-").exists()
    log = tmp_path / "log.jsonl"
    log.write_text('{"id": "kept"}\n', encoding="utf-8")
    with log.open("a", encoding="utf-8") as appended:  # serve tag ... --output /dev/stdout >> log.jsonl
        assert subprocess.run([*command, "--output", "/dev/stdout"], stdout=appended, timeout=120).returncode == 0
    assert [json.loads(line)["id"] for line in log.read_text(encoding="utf-8").splitlines()] == ["kept", 0, 1, 2, 3, 4]


def test_standard_output_appended_to_the_input_file_is_refused_before_it_grows(tfidf_run, tmp_path):
    src = tmp_path / "in.jsonl"
    original = "".join(json.dumps({"id": i, "text": "Kim ngạch thương mại Việt - Trung"}) + "\n" for i in range(5))
    src.write_text(original, encoding="utf-8")
    command = [sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--quiet"]
    for target in ("-", "/dev/stdout", "/dev/fd/1"):
        with src.open("a", encoding="utf-8") as appended:  # serve tag --input in.jsonl --output - >> in.jsonl
            done = subprocess.run([*command, "--output", target], stdout=appended, stderr=subprocess.PIPE, text=True,
                                  timeout=120)
        assert done.returncode == 2 and "standard output is the input file" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    with src.open("a", encoding="utf-8") as appended:  # --output /dev/fd/3 3>> in.jsonl: another descriptor
        number = appended.fileno()
        done = subprocess.run([*command, "--output", f"/dev/fd/{number}"], pass_fds=(number,), stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 2 and f"/dev/fd/{number}: this descriptor is the input file" in done.stderr
    assert src.read_text(encoding="utf-8") == original


def test_standard_input_read_from_the_output_file_is_refused_and_the_file_kept(tfidf_run, tmp_path):
    src = tmp_path / "in.jsonl"
    original = "".join(json.dumps({"id": i, "text": "Kim ngạch thương mại Việt - Trung"}) + "\n" for i in range(5))
    src.write_text(original, encoding="utf-8")
    command = [sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", "-", "--quiet"]
    with src.open("rb") as stdin, src.open("a", encoding="utf-8") as appended:  # --input - --output - < in >> in
        done = subprocess.run([*command, "--output", "-"], stdin=stdin, stdout=appended, stderr=subprocess.PIPE,
                              text=True, timeout=120)
    assert done.returncode == 2 and "standard output is the file standard input reads" in done.stderr
    with src.open("rb") as stdin, src.open("a", encoding="utf-8") as appended:  # --input /dev/stdin: the file is named
        done = subprocess.run([*command[:-2], "/dev/stdin", "--quiet", "--output", "-"], stdin=stdin, stdout=appended,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    assert done.returncode == 2 and f"standard output is the file standard input reads, {src.resolve()} (a `<" in done.stderr
    with src.open("rb") as stdin:  # --input - --output in.jsonl --overwrite < in.jsonl
        done = subprocess.run([*command, "--output", str(src), "--overwrite"], stdin=stdin, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 2 and "the output is the input file (standard input reads it)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and src.read_text(encoding="utf-8") == original
    with src.open("rb") as stdin:  # another output is fine
        done = subprocess.run([*command, "--output", str(tmp_path / "tags.jsonl")], stdin=stdin, capture_output=True,
                              text=True, timeout=120)
    assert done.returncode == 0 and len((tmp_path / "tags.jsonl").read_text(encoding="utf-8").splitlines()) == 5


def test_a_reader_that_closes_standard_output_ends_the_run_in_one_line(tfidf_run, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"Giá vàng hôm nay {i}"}) + "\n" for i in range(50_000)),
                   encoding="utf-8")
    tagger = subprocess.Popen([sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", str(src),
                               "--output", "-", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert json.loads(tagger.stdout.readline())["id"] == 0
    tagger.stdout.close()  # as `| head -1` does
    err = tagger.stderr.read()
    assert tagger.wait(timeout=120) == 2 and "Traceback" not in err
    assert err.strip().count("\n") == 0 and "the reader closed it" in err
    assert "after 0 records" not in err  # one record was read: the batch being written counts


def test_killed_parent_leaves_no_worker_behind(tfidf_run, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"Giá vàng hôm nay {i}"}) + "\n" for i in range(400_000)),
                   encoding="utf-8")
    tagger = subprocess.Popen([sys.executable, "-m", "serve", "tag", "--model", str(tfidf_run.output_dir), "--input", str(src),
                               "--output", str(tmp_path / "out.jsonl"), "--quiet", "--workers", "2"], stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while len(workers := subprocess.run(["pgrep", "-P", str(tagger.pid)], capture_output=True, text=True).stdout.split()) < 2:
        assert time.time() < deadline, "the workers did not start"
        time.sleep(0.1)
    tagger.kill()
    tagger.wait()
    deadline = time.time() + 20
    while any(os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2] for pid in workers):
        assert time.time() < deadline, "a worker outlived its parent"
        time.sleep(0.2)


def test_outputs_get_the_umask_mode_or_keep_the_replaced_files_and_a_symlink_stays(tfidf_predictor, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "Kim ngạch thương mại Việt - Trung"}) + "\n", encoding="utf-8")
    old = os.umask(0o022)
    try:
        tag_file(tfidf_predictor, str(src), str(tmp_path / "new.jsonl"), progress=False)
        kept = tmp_path / "kept.jsonl"
        kept.write_text("old\n", encoding="utf-8")
        kept.chmod(0o640)
        with pytest.raises(UserError, match="exists .*--overwrite"):  # nothing replaced unasked
            tag_file(tfidf_predictor, str(src), str(kept), progress=False)
        assert kept.read_text(encoding="utf-8") == "old\n"
        tag_file(tfidf_predictor, str(src), str(kept), progress=False, overwrite=True)
        link = tmp_path / "link.jsonl"
        link.symlink_to(kept)
        tag_file(tfidf_predictor, str(src), str(link), progress=False, overwrite=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.jsonl").stat().st_mode) == 0o644
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text(encoding="utf-8") != "old\n"
    assert link.is_symlink() and link.resolve() == kept.resolve()


def test_an_output_folder_that_cannot_be_written_is_one_line(tfidf_run, tmp_path, capsys):
    from serve.__main__ import main

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "Giá vàng hôm nay"}) + "\n", encoding="utf-8")
    assert main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", "/proc/tags.jsonl",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write" in err and "Traceback" not in err


def test_output_names_too_long_or_under_a_file_are_refused_in_one_line(tfidf_run, tmp_path, capsys):
    from serve.__main__ import main

    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": "Giá vàng hôm nay"}) + "\n", encoding="utf-8")
    too_long = tmp_path / ("a" * 300 + ".jsonl")  # longer than any file system takes: was a traceback
    just_over = tmp_path / ("b" * 232 + ".jsonl")  # legal, but its temporary file's name would not be
    for output, says in [(too_long, "306 bytes long"), (just_over, "238 bytes long"), (src / "x.jsonl", "is a file, not a directory")]:
        assert main(["tag", "--model", str(tfidf_run.output_dir), "--input", str(src), "--output", str(output),
                     "--quiet"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and says in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_a_file_that_appears_at_the_output_during_the_run_is_not_written_over(tfidf_predictor, tmp_path, monkeypatch,
                                                                             capsys):
    import serve.files

    src, out = tmp_path / "in.jsonl", tmp_path / "tags.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"Giá vàng hôm nay {i}"}) + "\n" for i in range(5)),
                   encoding="utf-8")
    original = serve.files.write_tags

    def someone_writes_the_output_meanwhile(*args, **kwargs):
        original(*args, **kwargs)
        out.write_text("MY PRECIOUS DATA\n", encoding="utf-8")

    monkeypatch.setattr(serve.files, "write_tags", someone_writes_the_output_meanwhile)
    kept = tmp_path / "tags.jsonl.partial"
    with pytest.raises(UserError, match="appeared there while tagging") as error:
        tag_file(tfidf_predictor, str(src), str(out), progress=False)
    # one message: what happened and where the tags are, not a second 'stopped:' line
    assert f"the 5 tagged records are in {kept}" in str(error.value) and capsys.readouterr().err == ""
    assert out.read_text(encoding="utf-8") == "MY PRECIOUS DATA\n"
    assert len(kept.read_text(encoding="utf-8").splitlines()) == 5  # the new tags are kept beside it
    # --overwrite replaces what was there when the run began, not what was written meanwhile
    (tmp_path / "tags.jsonl.partial").unlink()
    with pytest.raises(UserError, match=f"a file was written there while tagging; .*fix: mv {kept} {out} to replace it"):
        tag_file(tfidf_predictor, str(src), str(out), progress=False, overwrite=True)
    assert out.read_text(encoding="utf-8") == "MY PRECIOUS DATA\n" and kept.exists()
    out.unlink()
    with pytest.raises(UserError, match="a file appeared there while tagging"):  # none at the start: none to replace
        tag_file(tfidf_predictor, str(src), str(out), progress=False, overwrite=True)
    assert out.read_text(encoding="utf-8") == "MY PRECIOUS DATA\n"
    monkeypatch.setattr(serve.files, "write_tags", original)
    tag_file(tfidf_predictor, str(src), str(out), progress=False, overwrite=True)
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5


def test_tags_written_inside_a_model_directory_are_refused_before_the_model_loads(tfidf_run, tmp_path, capsys):
    import shutil

    from serve.__main__ import main as serve_main
    from vnzh_runtime.predictor import Predictor

    model = tmp_path / "copy"
    shutil.copytree(tfidf_run.output_dir, model)
    src = tmp_path / "in.txt"
    src.write_text("Kim ngạch thương mại Việt - Trung tăng\n", encoding="utf-8")
    for out in (model / "tags.jsonl", model / "model" / "tags.jsonl"):
        assert serve_main(["tag", "--model", str(model), "--input", str(src), "--output", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"lies inside the model directory {model}" in err[0] and not out.exists()
    Predictor.load(model)  # still loads


def test_without_hard_links_the_rename_still_never_replaces_a_file(tmp_path, monkeypatch):
    from serve.partial import rename_no_clobber

    def no_links(source, target):
        raise PermissionError("this file system has no hard links")

    monkeypatch.setattr(os, "link", no_links)
    new, taken, free = tmp_path / "new", tmp_path / "taken", tmp_path / "free"
    new.write_text("tags", encoding="utf-8")
    taken.write_text("mine", encoding="utf-8")
    assert rename_no_clobber(str(new), str(taken)) is False and taken.read_text(encoding="utf-8") == "mine"
    assert rename_no_clobber(str(new), str(free)) is True
    assert free.read_text(encoding="utf-8") == "tags" and not new.exists()


def test_a_full_disk_is_one_line_and_the_whole_records_written_are_kept(tfidf_predictor, tmp_path, monkeypatch, capsys):
    import errno

    import serve.files

    def fill_up(predictor, source, input_path, sink, *args):
        sink.write('{"id": 1}\n{"id": 2}\n{"id": 3, "la')  # the third record cut off where the disk filled up
        sink.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(serve.files, "write_tags", fill_up)
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text('{"text": "Kim ngạch"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"out.jsonl: cannot write \(No space left on device\); free space"):
        tag_file(tfidf_predictor, str(src), str(out), progress=False)
    kept = tmp_path / "out.jsonl.partial"
    assert kept.read_text(encoding="utf-8") == '{"id": 1}\n{"id": 2}\n' and not out.exists()
    assert f"2 records written to {kept}; {out} was not written" in capsys.readouterr().err


def test_a_symlink_loop_as_input_or_output_is_one_line(tfidf_predictor, tmp_path):
    loop, back, src = tmp_path / "loop.jsonl", tmp_path / "back", tmp_path / "in.jsonl"
    loop.symlink_to(back)
    back.symlink_to(loop)
    src.write_text('{"text": "Kim ngạch"}\n', encoding="utf-8")
    for input_path, output_path in ((src, loop), (loop, tmp_path / "out.jsonl")):
        with pytest.raises(UserError, match="loop.jsonl: a symbolic link that leads back to itself"):
            tag_file(tfidf_predictor, str(input_path), str(output_path), progress=False)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux's /dev/full")
def test_a_full_stream_is_one_line(tfidf_predictor, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Kim ngạch"}\n', encoding="utf-8")
    with pytest.raises(UserError, match=r"/dev/full: cannot write \(No space left on device\) after 1 records"):
        tag_file(tfidf_predictor, str(src), "/dev/full", progress=False)


def test_a_csv_partial_ends_at_its_last_whole_row_not_inside_a_quoted_cell(tmp_path):
    """A disk that filled up mid-row after an id with a line break kept a row of one field, and counted it."""
    from serve.partial import set_aside

    partial = tmp_path / ".out.csv.x.partial"
    partial.write_bytes(b'id,label\r\n"a\nb",economy\r\nc,other\r\n"rec3\nline\n')
    kept, records = set_aside(str(partial), str(tmp_path / "out.csv"))
    assert records == 2 and open(kept, "rb").read() == b'id,label\r\n"a\nb",economy\r\nc,other\r\n'


def test_partials_a_killed_run_left_are_named_at_the_next_run(tfidf_predictor, tmp_path, capsys):
    """SIGKILL leaves `.<output>.<random>.partial` with whole records, which no later run mentioned."""
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "Viet Nam"}\n', encoding="utf-8")
    (tmp_path / ".out.jsonl.k1ll3d.partial").write_text('{"id": 1}\n', encoding="utf-8")
    tag_file(tfidf_predictor, str(src), str(tmp_path / "out.jsonl"), progress=False)
    assert ".out.jsonl.k1ll3d.partial beside" in capsys.readouterr().err
    assert (tmp_path / ".out.jsonl.k1ll3d.partial").is_file()  # named, not removed


def test_a_tsv_partial_counts_its_rows_with_tabs(tmp_path):
    from serve.partial import set_aside

    partial = tmp_path / ".out.tsv.x.partial"
    partial.write_bytes(b'id\tdoc_id\r\n1\t"a\nb"\r\n2\t"c\nd"\r\n')
    assert set_aside(str(partial), str(tmp_path / "out.tsv"))[1] == 2
