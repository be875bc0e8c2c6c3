"""The solver's child process: why there is one, and the protocol between the two sides.

CP-SAT catches SIGINT itself: it ends the search and returns its best schedule as if the
time were up, so a run could not tell an interrupted solve from a finished one. The solve
therefore runs in a child process; Ctrl-C reaches the parent as a normal
KeyboardInterrupt, the child is ended and nothing is written.

The parent sends one request (conference, matchmaking, options) over a pipe; the child
answers with any number of ``("progress", Progress)`` messages and then one ``("done",
Schedule)`` or ``("error", exception)``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scheduler.errors import UserError

if TYPE_CHECKING:
    from scheduler.model import Conference, Matchmaking, Schedule
    from scheduler.solve import Progress


def solve_in_child(
    conference: Conference,
    matchmaking: Matchmaking,
    *,
    time_limit: float,
    seed: int,
    deterministic: bool,
    progress: Callable[[Progress], None] | None = None,
) -> Schedule:
    """Solve in a fresh child process; ``progress`` is called here, in this process, with
    each report of the solver. Ends the child on any exception here (Ctrl-C included)."""
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
                f"child_main({to_child_read}, {from_child_write})"
            ),
        ],
        pass_fds=(to_child_read, from_child_write),
        env=env,
        # Its own session: Ctrl-C on a terminal reaches only this process, which decides
        # what it means and ends the child.
        start_new_session=True,
    )
    os.close(to_child_read)
    os.close(from_child_write)
    requests = Connection(to_child_write, readable=False)
    replies = Connection(from_child_read, writable=False)
    try:
        requests.send((conference, matchmaking, time_limit, seed, deterministic))
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


def child_main(requests_fd: int, replies_fd: int) -> None:
    """The child's side: read the request, solve, send progress reports and the schedule
    (or the error)."""
    from scheduler.solve import SolveOptions
    from scheduler.solve import solve as _solve

    requests = Connection(requests_fd, writable=False)
    replies = Connection(replies_fd, readable=False)
    conference, matchmaking, time_limit, seed, deterministic = requests.recv()
    requests.close()
    lock = threading.Lock()  # the solver may report from its own threads

    def send(message: tuple[str, Any]) -> None:
        with lock:
            replies.send(message)

    options = SolveOptions(
        time_limit=time_limit,
        seed=seed,
        deterministic=deterministic,
        progress=lambda p: send(("progress", p)),
    )
    try:
        send(("done", _solve(conference, matchmaking, options)))
    except BaseException as error:  # noqa: BLE001 - every failure must reach the parent
        send(("error", _portable(error)))
    finally:
        replies.close()


def _portable(error: BaseException) -> BaseException:
    """An exception that survives pickling: user errors keep their message, anything else
    becomes a RuntimeError carrying the child's traceback."""
    if isinstance(error, UserError):
        return UserError(str(error))
    text = "".join(traceback.format_exception(error))
    return RuntimeError(f"the solver failed:\n{text}")
