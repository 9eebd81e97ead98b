"""The one exception type the CLIs turn into a single line on stderr (no traceback), and their rule
that an option taking one value is given once (`GivenOnce`)."""

import argparse


class UserError(Exception):
    """Something the user fixes: a config key, a data line, a missing model. The message names the fix."""


def discard_writes(fd: int) -> None:
    """Later writes to `fd` (a pipe whose reader went away) go to /dev/null instead of failing again."""
    import os

    os.dup2(os.open(os.devnull, os.O_WRONLY), fd)


def writable_descriptor(fd: int) -> bool:
    """Whether `fd` is open for writing: with `2>&-` the process starts without standard error, and
    the first file Python opens may take descriptor 2 (read-only), so every message would fail."""
    import fcntl
    import os

    try:
        return fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE in (os.O_WRONLY, os.O_RDWR)
    except OSError:
        return False


def run_cli(job, interrupted="interrupted") -> int:
    """Run a command's job and turn its end into an exit code, with at most one line on stderr.

    0 when it completes; 2 and `error: <message>` for a `UserError` (the message names the fix);
    130 and `error: <interrupted>` for Ctrl-C, SIGTERM or SIGHUP (`interrupted` a string, or a function
    that says what the interruption left); anything else is a bug: one line says so, then the traceback.
    """
    import os
    import signal
    import sys
    import threading

    if sys.stderr is None or not writable_descriptor(2):  # `2>&-`: a completed run must not fail on its summary line
        sys.stderr = open(os.devnull, "w")
    main_thread = threading.current_thread() is threading.main_thread()  # signal handlers live there only
    # SIGHUP (the terminal or ssh session closed) stops as SIGTERM and Ctrl-C do: the partial output is kept.
    # A signal the caller ignores stays ignored (`nohup` ignores SIGHUP so that the run outlives the session).
    stopping = [number for number in (signal.SIGTERM, signal.SIGHUP) if signal.getsignal(number) is not signal.SIG_IGN]
    previous = {number: signal.signal(number, signal.default_int_handler) for number in stopping} if main_thread else {}
    try:
        job()
    except UserError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"error: {interrupted() if callable(interrupted) else interrupted}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `| head` closed standard output: the reader has what it wanted
        discard_writes(sys.stdout.fileno())  # the exit's flush goes nowhere
        return 0
    except Exception:
        print("error: internal error, a bug in this project (please report it with the traceback below)", file=sys.stderr)
        raise
    finally:
        for number, handler in previous.items():  # main() may be called in-process (tests, notebooks)
            signal.signal(number, handler)
    return 0


class GivenOnce(argparse.Action):
    """An option whose value a second use would silently replace (argparse keeps the last): `--input
    a.jsonl --input b.jsonl` tagged b alone, and a's records had no output. A second use is refused.

    >>> parser = argparse.ArgumentParser(prog="p", exit_on_error=False)
    >>> _ = parser.add_argument("--input", action=GivenOnce)
    >>> parser.parse_args(["--input", "a"]).input
    'a'
    >>> try:
    ...     parser.parse_args(["--input", "a", "--input=b"])
    ... except argparse.ArgumentError as err:
    ...     print(err)
    argument --input: given twice ('a', then 'b'); give it once (tag each file in its own run, or join them first)
    """

    def __call__(self, parser, namespace, values, option_string=None):
        given = namespace.__dict__.setdefault("_given_once", set())
        if self.dest in given:
            several = " (tag each file in its own run, or join them first)" if self.dest == "input" else ""
            raise argparse.ArgumentError(self, f"given twice ({getattr(namespace, self.dest)!r}, then {values!r}); "
                                               f"give it once{several}")
        given.add(self.dest)
        setattr(namespace, self.dest, values)
