"""A network link of limited speed, for ssh's ProxyCommand: relays stdin/stdout to HOST:PORT at MBIT
megabits per second in each direction (64 KiB bursts at most, also after an idle spell).

    ssh -o ProxyCommand='python3 benchmarks/slow_link.py 127.0.0.1 2222 50' ...

No root, no tc: the limit is where ssh's bytes pass.  SIGSTOP it to freeze the link (a dropped
network: nothing arrives, nothing fails), SIGKILL it to cut it.
"""

import os
import socket
import sys
import threading
import time

CHUNK = 64 * 1024


def pump(read, write, bytes_per_s):
    """Copy until EOF; an idle link saves up no more than one CHUNK of credit (as a real link)."""
    free_at = time.monotonic()   # when the link has sent everything so far
    while True:
        data = read(CHUNK)
        if not data:
            break
        now = time.monotonic()
        free_at = max(free_at, now - CHUNK / bytes_per_s) + len(data) / bytes_per_s
        if free_at > now:
            time.sleep(free_at - now)
        write(data)


def main():
    host, port, mbit = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    rate = mbit * 1e6 / 8
    peer = socket.create_connection((host, port))

    def write_out(data):
        while data:
            data = data[os.write(1, data):]

    def up():
        pump(lambda n: os.read(0, n), peer.sendall, rate)
        peer.shutdown(socket.SHUT_WR)

    threading.Thread(target=up, daemon=True).start()
    pump(peer.recv, write_out, rate)
    os._exit(0)


if __name__ == "__main__":
    main()
