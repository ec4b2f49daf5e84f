#!/usr/bin/env python3
"""A TCP relay that logs every protocol line it passes: relay.py LISTEN_PORT TARGET_PORT LOG.

Each line of LOG is `CONN DIR LINE`: CONN numbers the connection, DIR is `>` (towards the
target, schedd) or `<` (back to the peer). Used by capture.sh to record a real session.
"""
import socket
import sys
import threading

listen_port, target_port, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
log = open(log_path, "ab", buffering=0)
lock = threading.Lock()


def pump(conn_id, direction, src, dst):
    pending = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
            pending += data
            *lines, pending = pending.split(b"\n")
            with lock:
                for line in lines:
                    log.write(b"%d %s %s\n" % (conn_id, direction, line))
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def main():
    server = socket.socket()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(64)
    conn_id = 0
    while True:
        peer, _ = server.accept()
        conn_id += 1
        upstream = socket.create_connection(("127.0.0.1", target_port))
        for args in ((conn_id, b">", peer, upstream), (conn_id, b"<", upstream, peer)):
            threading.Thread(target=pump, args=args, daemon=True).start()


main()
