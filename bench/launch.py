"""Exec a command pinned to some CPUs with a raised open-files limit.

`python -m bench.launch --cpus 0 -- koryu serve ...`: the affinity and the limit are set
in this process and survive the exec, so the pid the caller holds is the command's pid
and every thread the command starts later inherits the affinity.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys


def raise_nofile() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 65536
    if soft == resource.RLIM_INFINITY or soft >= target:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return target


def pin(cpus: set[int]) -> None:
    available = os.sched_getaffinity(0)
    if cpus and cpus <= available:
        os.sched_setaffinity(0, cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.launch")
    parser.add_argument("--cpus", default="", help="comma-separated CPU numbers")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command")
    pin({int(c) for c in args.cpus.split(",") if c.strip()})
    raise_nofile()
    os.execvp(command[0], command)  # noqa: S606 - argv as given, no shell
    return 127  # pragma: no cover - execvp does not return


if __name__ == "__main__":
    sys.exit(main())
