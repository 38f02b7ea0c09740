#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Send commands to a QEMU human monitor on a unix socket and print the replies.

    hmp.py SOCKET COMMAND...

Each COMMAND is one monitor line; its reply (without the echoed command
and the prompt) goes to stdout; after "quit" nothing is read.  Waits up to
30 s for the socket to appear (QEMU creates it at start) and up to 600 s
for each reply (savevm and loadvm take a while).  Exits 1 when the socket
cannot be reached or a reply never ends.
"""
import socket
import sys
import time

PROMPT = b"(qemu) "


def connect(path, wait_s=30.0):
    deadline = time.monotonic() + wait_s
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except OSError:
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def until_prompt(s, timeout_s=600.0):
    """Read up to and including the next prompt; return what came before it."""
    s.settimeout(timeout_s)
    buf = b""
    while not buf.endswith(PROMPT):
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError("monitor closed")
        buf += chunk
    return buf[: -len(PROMPT)]


def clean(reply, cmd):
    # The monitor echoes the command with terminal escapes; keep what follows.
    text = reply.decode("utf-8", "replace").replace("\r", "")
    lines = text.split("\n")
    if lines and cmd.split()[0] in lines[0]:
        lines = lines[1:]
    out = []
    for line in lines:
        line = "".join(c for c in line if c == "\t" or c >= " ")
        # Drop what is left of escape sequences such as "[K" and "[D".
        while line.startswith("["):
            end = 1
            while end < len(line) and (line[end].isdigit() or line[end] == ";"):
                end += 1
            if end < len(line) and line[end].isalpha():
                line = line[end + 1:]
            else:
                break
        out.append(line)
    return "\n".join(out).strip("\n")


def main():
    if len(sys.argv) < 3:
        sys.stderr.write(__doc__)
        return 2
    path = sys.argv[1]
    try:
        s = connect(path)
        until_prompt(s, 30.0)  # the banner
        for cmd in sys.argv[2:]:
            s.sendall(cmd.encode() + b"\n")
            if cmd.strip() == "quit":
                break
            reply = clean(until_prompt(s), cmd)
            if reply:
                print(reply)
        s.close()
    except (OSError, EOFError) as e:
        sys.stderr.write("hmp: %s: %s\n" % (path, e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
