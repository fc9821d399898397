#!/usr/bin/python3
"""A deliberately minimal DICOM upper-layer client that sends arbitrary bytes as a C-STORE.

DCMTK's storescu parses a file before sending it, so it cannot put a truncated or
undecodable dataset, or one without a SOP Instance UID, on the wire. Tests use this
client for exactly that: it speaks PS3.8 §9 (A-ASSOCIATE, P-DATA-TF, A-RELEASE) and
PS3.7 §9.3.1 (C-STORE-RQ) and sends whatever dataset bytes it is given.

  rawscu.py HOST PORT FILE [--truncate N] [--calling AE] [--called AE]
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
from dataclasses import dataclass

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.10.1234.1"
EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1"
IMPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2"


class AssociationRejected(Exception):
    pass


class AssociationAborted(Exception):
    pass


@dataclass
class StoreResult:
    status: int | None  # None when the peer aborted or closed instead of answering
    detail: str


def _uid_bytes(uid: str) -> bytes:
    data = uid.encode("ascii")
    return data + b"\0" if len(data) % 2 else data


def _item(item_type: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", item_type, 0, len(payload)) + payload


def _ae(title: str) -> bytes:
    return title.encode("ascii")[:16].ljust(16, b" ")


def _implicit_element(group: int, element: int, value: bytes) -> bytes:
    return struct.pack("<HHI", group, element, len(value)) + value


def _command_set(fields: list[tuple[int, bytes]]) -> bytes:
    body = b"".join(_implicit_element(0x0000, element, value) for element, value in fields)
    return _implicit_element(0x0000, 0x0000, struct.pack("<I", len(body))) + body


def _parse_implicit(data: bytes) -> dict[tuple[int, int], bytes]:
    out = {}
    offset = 0
    while offset + 8 <= len(data):
        group, element, length = struct.unpack_from("<HHI", data, offset)
        offset += 8
        out[(group, element)] = data[offset:offset + length]
        offset += length
    return out


class RawAssociation:
    """One association proposing a single presentation context (context id 1)."""

    def __init__(self, host: str, port: int, abstract_syntax: str, transfer_syntax: str,
                 calling_ae: str = "RAWSCU", called_ae: str = "DXHUB", timeout: float = 20.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.max_pdu = 16384
        self.context_id = 1
        self._associate(abstract_syntax, transfer_syntax, calling_ae, called_ae)

    def _recv_exact(self, count: int) -> bytes:
        chunks = []
        while count:
            chunk = self.sock.recv(count)
            if not chunk:
                raise AssociationAborted("connection closed by peer")
            chunks.append(chunk)
            count -= len(chunk)
        return b"".join(chunks)

    def _recv_pdu(self) -> tuple[int, bytes]:
        header = self._recv_exact(6)
        pdu_type, _, length = struct.unpack(">BBI", header)
        return pdu_type, self._recv_exact(length)

    def _associate(self, abstract_syntax: str, transfer_syntax: str, calling: str,
                   called: str) -> None:
        presentation = struct.pack(">BBBB", self.context_id, 0, 0, 0)
        presentation += _item(0x30, _uid_bytes(abstract_syntax))
        presentation += _item(0x40, _uid_bytes(transfer_syntax))
        user = _item(0x51, struct.pack(">I", 65536)) + _item(0x52, _uid_bytes(
            IMPLEMENTATION_CLASS_UID))
        body = struct.pack(">HH", 1, 0) + _ae(called) + _ae(calling) + b"\0" * 32
        body += _item(0x10, _uid_bytes(APPLICATION_CONTEXT)) + _item(0x20, presentation)
        body += _item(0x50, user)
        self.sock.sendall(struct.pack(">BBI", 0x01, 0, len(body)) + body)
        pdu_type, payload = self._recv_pdu()
        if pdu_type == 0x03:
            raise AssociationRejected(f"A-ASSOCIATE-RJ result/source/reason "
                                      f"{payload[1]}/{payload[2]}/{payload[3]}")
        if pdu_type != 0x02:
            raise AssociationAborted(f"unexpected PDU type {pdu_type:#04x} in association")
        offset = 68
        accepted = False
        while offset + 4 <= len(payload):
            item_type, _, length = struct.unpack_from(">BBH", payload, offset)
            value = payload[offset + 4:offset + 4 + length]
            if item_type == 0x21 and value[0] == self.context_id and value[2] == 0:
                accepted = True
            if item_type == 0x50:
                sub = 0
                while sub + 4 <= len(value):
                    sub_type, _, sub_length = struct.unpack_from(">BBH", value, sub)
                    if sub_type == 0x51:
                        peer_max = struct.unpack_from(">I", value, sub + 4)[0]
                        if peer_max:
                            self.max_pdu = min(peer_max, 65536)
                    sub += 4 + sub_length
            offset += 4 + length
        if not accepted:
            raise AssociationRejected("presentation context not accepted")

    def _send_pdvs(self, data: bytes, is_command: bool) -> None:
        fragment = max(self.max_pdu - 12, 256)  # PDV item header 6 + PDU header 6
        offsets = list(range(0, len(data), fragment)) or [0]
        for index, start in enumerate(offsets):
            chunk = data[start:start + fragment]
            control = (0x01 if is_command else 0x00) | (0x02 if index == len(offsets) - 1 else 0)
            pdv = struct.pack(">IBB", len(chunk) + 2, self.context_id, control) + chunk
            self.sock.sendall(struct.pack(">BBI", 0x04, 0, len(pdv)) + pdv)

    def _receive_command(self) -> dict[tuple[int, int], bytes]:
        command = b""
        while True:
            pdu_type, payload = self._recv_pdu()
            if pdu_type == 0x07:
                raise AssociationAborted("A-ABORT from peer")
            if pdu_type == 0x05:
                raise AssociationAborted("A-RELEASE-RQ from peer instead of a response")
            if pdu_type != 0x04:
                raise AssociationAborted(f"unexpected PDU type {pdu_type:#04x}")
            offset = 0
            last = False
            while offset + 6 <= len(payload):
                length, _, control = struct.unpack_from(">IBB", payload, offset)
                command += payload[offset + 6:offset + 4 + length]
                last = bool(control & 0x02) and bool(control & 0x01)
                offset += 4 + length
            if last:
                return _parse_implicit(command)

    def store(self, sop_class: str, sop_instance: str, dataset: bytes,
              message_id: int = 1) -> StoreResult:
        command = _command_set([
            (0x0002, _uid_bytes(sop_class)),
            (0x0100, struct.pack("<H", 0x0001)),
            (0x0110, struct.pack("<H", message_id)),
            (0x0700, struct.pack("<H", 0)),
            (0x0800, struct.pack("<H", 0x0000)),
            (0x1000, _uid_bytes(sop_instance)),
        ])
        try:
            self._send_pdvs(command, is_command=True)
            self._send_pdvs(dataset, is_command=False)
            response = self._receive_command()
        except (AssociationAborted, ConnectionError, socket.timeout) as error:
            return StoreResult(None, str(error))
        status = struct.unpack("<H", response[(0x0000, 0x0900)])[0]
        comment = response.get((0x0000, 0x0902), b"").decode("ascii", "replace").strip("\0 ")
        return StoreResult(status, comment)

    def release(self) -> None:
        try:
            self.sock.sendall(struct.pack(">BBI", 0x05, 0, 4) + b"\0" * 4)
            self._recv_pdu()
        except (OSError, AssociationAborted):
            pass
        finally:
            self.sock.close()


def split_part10(data: bytes) -> tuple[str, str, str, bytes]:
    """(transfer syntax, SOP class, SOP instance, dataset bytes) of a Part 10 file.

    Reads just the File Meta group (always explicit VR little endian, PS3.10 §7.1)."""
    if data[128:132] != b"DICM":
        raise ValueError("not a DICOM Part 10 file")
    offset = 132
    meta: dict[tuple[int, int], bytes] = {}
    while offset + 8 <= len(data):
        group, element = struct.unpack_from("<HH", data, offset)
        if group != 0x0002:
            break
        vr = data[offset + 4:offset + 6]
        if vr in (b"OB", b"OW", b"UN", b"SQ", b"UT", b"UC", b"UR", b"OD", b"OF", b"OL", b"OV"):
            length = struct.unpack_from("<I", data, offset + 8)[0]
            start = offset + 12
        else:
            length = struct.unpack_from("<H", data, offset + 6)[0]
            start = offset + 8
        meta[(group, element)] = data[start:start + length]
        offset = start + length

    def text(element: int) -> str:
        return meta.get((0x0002, element), b"").decode("ascii").strip("\0 ")

    return text(0x0010), text(0x0002), text(0x0003), data[offset:]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("file")
    parser.add_argument("--truncate", type=int, default=None, help="send only N dataset bytes")
    parser.add_argument("--calling", default="RAWSCU")
    parser.add_argument("--called", default="DXHUB")
    args = parser.parse_args(argv)
    with open(args.file, "rb") as handle:
        transfer_syntax, sop_class, sop_instance, dataset = split_part10(handle.read())
    if args.truncate is not None:
        dataset = dataset[:args.truncate]
    association = RawAssociation(args.host, args.port, sop_class, transfer_syntax,
                                 args.calling, args.called)
    result = association.store(sop_class, sop_instance, dataset)
    association.release()
    status = "aborted" if result.status is None else f"{result.status:#06x}"
    print(f"status={status} {result.detail}")
    return 0 if result.status == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
