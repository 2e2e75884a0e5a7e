#!/usr/bin/env python3
"""A server that speaks first, for the reject checks of tests/integration/run.sh.

    greeter.py ADDRESS PORT

On each connection it sends a MySQL protocol handshake (what nDPI recognises
as MySQL from this one packet, so the verdict falls on a packet of the
*server*), then waits up to 5 s for the client and prints one line saying how
the connection ended: "reset", "eof", "data" or "timeout".  Listens until
killed.  Lab namespaces only; it never connects anywhere.
"""
import socket
import struct
import sys


def greeting():
    body = (b"\x0a" + b"5.7.31-log\x00" + struct.pack("<I", 7) + b"abcdefgh\x00"
            + struct.pack("<H", 0xf7ff) + b"\x21" + struct.pack("<H", 2)
            + struct.pack("<H", 0x81ff) + b"\x15" + b"\x00" * 10
            + b"ijklmnopqrst\x00" + b"mysql_native_password\x00")
    return struct.pack("<I", len(body))[:3] + b"\x00" + body


def main():
    addr, port = sys.argv[1], int(sys.argv[2])
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if ":" in addr:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind((addr, port))
    s.listen(16)
    print("listening", flush=True)
    hello = greeting()
    while True:
        c, peer = s.accept()
        c.settimeout(5)
        try:
            c.sendall(hello)
            how = "data" if c.recv(100) else "eof"
        except ConnectionResetError:
            how = "reset"
        except socket.timeout:
            how = "timeout"
        except OSError as e:
            how = "error " + str(e)
        print(how, peer[0], flush=True)
        c.close()


if __name__ == "__main__":
    main()
