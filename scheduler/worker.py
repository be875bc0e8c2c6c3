"""The solver's child process: why there is one, and the protocol between the two sides.

CP-SAT catches SIGINT itself: it ends the search and returns its best schedule as if the
time were up, so a run could not tell an interrupted solve from a finished one. The solve
therefore runs in a child process; Ctrl-C reaches the parent as a normal
KeyboardInterrupt, the child is ended and nothing is written.

The parent sends one request (conference, matchmaking, the solve options) over a pipe; the child
answers with any number of ``("progress", Progress)`` messages and then one ``("done",
Schedule)`` or ``("error", exception)``.

The child ends with its parent, silently: on Linux the kernel kills it when the parent
dies (``prctl(PR_SET_PDEATHSIG)``); everywhere a watcher thread ends it when the request
pipe reaches its end (the parent closed it or died) or its parent pid changes; and a
reply that finds nobody listening (BrokenPipeError) ends it without a traceback.

CP-SAT calls made in this process (matchmaking's) go through `keep_ctrl_c`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.errors import UserError

if TYPE_CHECKING:
    from scheduler.model import Conference, Matchmaking, PublishedPlan, Schedule
    from scheduler.solve import Progress


def solve_in_child(
    conference: Conference,
    matchmaking: Matchmaking,
    *,
    time_limit: float,
    seed: int,
    deterministic: bool,
    progress: Callable[[Progress], None] | None = None,
    published: PublishedPlan | None = None,
    moves: int = 0,
) -> Schedule:
    """Solve in a fresh child process; ``progress`` is called here, in this process, with
    each report of the solver. Ends the child on any exception here (Ctrl-C included).
    The other arguments are those of `scheduler.solve.SolveOptions`."""
    child, requests, replies = start_child()
    options = {
        "time_limit": time_limit,
        "seed": seed,
        "deterministic": deterministic,
        "published": published,
        "moves": moves,
    }
    try:
        requests.send((conference, matchmaking, options))
        while True:
            if not replies.poll(0.2):
                continue
            try:
                kind, payload = replies.recv()
            except EOFError:
                raise RuntimeError(
                    f"the solver process ended unexpectedly (exit code {child.wait()})"
                ) from None
            if kind == "progress":
                if progress is not None:
                    progress(payload)
            elif kind == "done":
                return payload
            else:  # "error": the child's exception, raised here
                raise payload
    finally:
        requests.close()
        replies.close()
        if child.poll() is None:
            child.kill()  # interrupted or failed here: the child's work is not wanted
        child.wait()


def start_child() -> tuple[subprocess.Popen[bytes], Connection, Connection]:
    """Start the solver's child process: (the process, the request pipe to it, the reply
    pipe from it). The child ends by itself when this process dies or closes the request
    pipe."""
    import scheduler

    # A fresh interpreter (not fork: the solver runs threads; not multiprocessing's spawn:
    # it would re-run the caller's script). Requests and replies travel over two pipes.
    to_child_read, to_child_write = os.pipe()
    from_child_read, from_child_write = os.pipe()
    package_root = str(Path(scheduler.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "from scheduler.worker import child_main; "
                f"child_main({to_child_read}, {from_child_write}, {os.getpid()})"
            ),
        ],
        pass_fds=(to_child_read, from_child_write),
        env=env,
        # Its own session: Ctrl-C on a terminal (or a hang-up) reaches only this process,
        # which decides what it means and ends the child.
        start_new_session=True,
    )
    os.close(to_child_read)
    os.close(from_child_write)
    return (
        child,
        Connection(to_child_write, readable=False),
        Connection(from_child_read, writable=False),
    )


def child_main(requests_fd: int, replies_fd: int, parent: int) -> None:
    """The child's side: read the request, solve, send progress reports and the schedule
    (or the error). Ends at once, silently, when the parent is gone."""
    _end_with_parent(parent)
    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    try:
        request = requests.recv()
    except (EOFError, OSError):
        os._exit(0)  # the parent is gone before asking anything
    threading.Thread(target=_watch_parent, args=(requests, parent), daemon=True).start()
    lock = threading.Lock()  # the solver may report from its own threads

    def send(message: tuple[str, Any]) -> None:
        try:
            with lock:
                replies.send(message)
        except OSError:  # BrokenPipeError and kin: nobody is listening any more
            os._exit(0)

    try:
        send(("done", _solve(request, lambda p: send(("progress", p)))))
    except BaseException as error:  # noqa: BLE001 - every failure must reach the parent
        send(("error", _portable(error)))
    os._exit(0)  # no clean-up of CP-SAT's threads, no message at exit: the work is sent


def _solve(request: tuple[Any, ...], progress: Callable[[Progress], None]) -> Schedule:
    from scheduler.solve import SolveOptions
    from scheduler.solve import solve as solve_conference

    conference, matchmaking, options = request
    return solve_conference(conference, matchmaking, SolveOptions(**options, progress=progress))


# Linux's prctl option: the signal this process gets when its parent dies.
_PR_SET_PDEATHSIG = 1


def _end_with_parent(parent: int) -> None:
    """Have the kernel kill this process when its parent dies (Linux); elsewhere
    `_watch_parent` notices. Also ends at once if the parent died already."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # the watcher thread still notices
    if os.getppid() != parent:
        os._exit(0)


def _watch_parent(requests: Connection, parent: int) -> None:
    """End this process when the parent is gone: the request pipe reaches its end (the
    parent closed it or died), or the parent's pid changes (re-parented to init)."""
    while True:
        try:
            if requests.poll(1.0):
                requests.recv()  # the parent sends nothing more: only EOF can come
        except (EOFError, OSError):
            os._exit(0)
        if os.getppid() != parent:
            os._exit(0)


def _portable(error: BaseException) -> BaseException:
    """An exception that survives pickling: user errors keep their message, anything else
    becomes a RuntimeError carrying the child's traceback."""
    if isinstance(error, UserError):
        return UserError(str(error))
    text = "".join(traceback.format_exception(error))
    return RuntimeError(f"the solver failed:\n{text}")


@contextmanager
def keep_ctrl_c() -> Iterator[None]:
    """Re-install this process's Ctrl-C handler after a CP-SAT call in this process:
    CP-SAT leaves SIGINT at the system default afterwards, which would kill the process
    without cleaning up (e.g. in the middle of writing outputs)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    handler = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        if handler is not None:
            signal.signal(signal.SIGINT, handler)
