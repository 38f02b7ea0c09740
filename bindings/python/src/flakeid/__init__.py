"""Unique, time-ordered 64-bit IDs from the flakeid kernel module.

The module hands out Snowflake-style IDs through /dev/flakeid: every
process on the host shares one generator, so no two IDs are equal and the
IDs one open file returns strictly increase.  This package is a thin layer
over the device (os.read, fcntl.ioctl, struct; no dependencies)::

    import flakeid
    with flakeid.Generator() as gen:
        i = gen.generate()
        print(i, gen.decode(i).timestamp)
        ids = gen.generate_batch(1000)

decode_with() splits an ID without the device when the epoch and layout
are known.

Errors are FlakeidError (an OSError) or one of its subclasses:
NoDeviceError (no /dev/flakeid), FencedError (EKEYEXPIRED: fenced or at the
ceiling until_ms), InvalidIdError (also a ValueError: bits above the
layout), TimestampOverflowError (also an OverflowError: EOVERFLOW, the
timestamp field is used up).
"""

from __future__ import annotations

import array
import datetime
import errno
import fcntl
import os
import sys
import threading
from dataclasses import dataclass
from typing import Iterator, List, NamedTuple

from . import _uapi
from ._uapi import DEVICE_PATH, SYSFS_DIR, UNTIL_FENCED, UNTIL_NONE, BATCH_MAX

__all__ = [
    "Generator", "Config", "Decoded", "Stats", "decode_with", "stats_from",
    "FlakeidError", "NoDeviceError", "FencedError", "InvalidIdError",
    "TimestampOverflowError", "DEVICE_PATH", "SYSFS_DIR", "UNTIL_NONE",
    "UNTIL_FENCED", "BATCH_MAX",
]

__version__ = "0.1.0"


class FlakeidError(OSError):
    """Base of every error this package raises; errno is set when the
    kernel gave one."""


class NoDeviceError(FlakeidError):
    """There is no /dev/flakeid (the module is not loaded)."""


class FencedError(FlakeidError):
    """EKEYEXPIRED: the device issues nothing now.  It is fenced (until_ms
    is 0: an operator, a lease agent, or a VM restore or clone stopped it),
    or its next ID would pass the ceiling until_ms and the ceiling was not
    raised in time."""


class InvalidIdError(FlakeidError, ValueError):
    """The ID has bits set above the layout it is decoded with."""


class TimestampOverflowError(FlakeidError, OverflowError):
    """EOVERFLOW: the timestamp field is used up, no ID can be issued under
    this epoch and layout."""


_ERRNO_CLASS = {
    errno.EKEYEXPIRED: FencedError,
    errno.EOVERFLOW: TimestampOverflowError,
}


def _device_error(e: OSError) -> FlakeidError:
    cls = _ERRNO_CLASS.get(e.errno, FlakeidError)
    return cls(e.errno, os.strerror(e.errno) if e.errno else str(e))


_UNIX_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


class Decoded(NamedTuple):
    """An ID split into its fields.  ``timestamp`` (a property) is the
    same instant as ``unix_ms``, as an aware UTC datetime."""

    unix_ms: int
    """Milliseconds since 1970-01-01 UTC."""
    timestamp_ms: int
    """The raw timestamp field: milliseconds since the epoch."""
    region_id: int
    app_id: int
    machine_id: int
    sequence: int

    @property
    def timestamp(self) -> datetime.datetime:
        """When the ID was made, UTC.  TimestampOverflowError past the
        year 9999 (datetime's end; wide layouts reach that far)."""
        try:
            return _UNIX_EPOCH + datetime.timedelta(milliseconds=self.unix_ms)
        except OverflowError:
            raise TimestampOverflowError(
                errno.EOVERFLOW, f"unix_ms {self.unix_ms} past datetime's range") from None


@dataclass(frozen=True)
class Config:
    """The device's configuration (FLAKEID_IOC_CONFIG).  Only epoch_ms and
    the five widths matter to decode_with(); Config.with_layout() builds
    one for it."""

    epoch_ms: int = _uapi.DEFAULT_EPOCH_MS
    timestamp_bits: int = 41
    region_bits: int = 4
    app_bits: int = 3
    machine_bits: int = 5
    sequence_bits: int = 10
    region_id: int = 0
    app_id: int = 0
    machine_id: int = 0
    max_borrow_ms: int = 1000
    floor_ms: int = 0
    generation: int = 0
    until_ms: int = UNTIL_NONE
    """UNTIL_NONE (no ceiling), UNTIL_FENCED (0) or a Unix ms."""
    vm_forks: int = 0

    @classmethod
    def with_layout(cls, epoch_ms: int, layout: str) -> "Config":
        """A Config with this epoch and layout "T:R:A:M:S" (as sysfs shows
        it).  ValueError when the layout is not five widths summing to at
        most 64 with a timestamp and a sequence field."""
        parts = layout.strip().split(":")
        if len(parts) != 5 or not all(p.isdigit() for p in parts):
            raise ValueError(f"not a layout: {layout!r}")
        w = [int(p) for p in parts]
        if sum(w) > 64 or w[0] < 1 or w[4] < 1:
            raise ValueError(f"not a layout: {layout!r}")
        return cls(epoch_ms, *w)

    @property
    def layout(self) -> str:
        """The layout as "T:R:A:M:S"."""
        return ":".join(str(b) for b in self._widths())

    @property
    def fenced(self) -> bool:
        """Whether the device is fenced (until_ms is 0)."""
        return self.until_ms == UNTIL_FENCED

    def _widths(self):
        return (self.timestamp_bits, self.region_bits, self.app_bits,
                self.machine_bits, self.sequence_bits)


def decode_with(config: Config, id: int) -> Decoded:
    """Split ``id`` under ``config``'s epoch and layout, without the device.
    Agrees with FLAKEID_IOC_DECODE and libflakeid's flakeid_decode_with()
    (bindings/testdata/decode.tsv).  InvalidIdError when ``id`` has bits
    above the layout or is not an unsigned 64-bit integer."""
    t, r, a, m, s = config._widths()
    total = t + r + a + m + s
    if total > 64 or t < 1 or s < 1 or min(r, a, m) < 0:
        raise ValueError(f"not a layout: {config.layout}")
    if not isinstance(id, int) or id < 0 or id >> total:
        raise InvalidIdError(errno.EINVAL, f"ID {id} has bits above layout {config.layout}")

    def field(shift: int, bits: int) -> int:
        return (id >> shift) & ((1 << bits) - 1)

    ts = field(s + m + a + r, t)
    return Decoded(config.epoch_ms + ts, ts, field(s + m + a, r),
                   field(s + m, a), field(s, m), field(0, s))


@dataclass(frozen=True)
class Stats:
    """The counters and the ceiling under /sys/class/misc/flakeid/, as
    libflakeid's flakeid_get_stats() reads them."""

    ids_issued: int
    clock_steps_back: int
    borrowed_ms: int
    waits: int
    refills: int
    ahead_ms: int
    """The ID clock minus the wall clock, ms (may be negative)."""
    generation: int
    until_ms: int = UNTIL_NONE
    until_wait_ms: int = 0
    until_waits: int = 0
    until_refused: int = 0
    vm_forks: int = 0


def _read_attr(dir: str, name: str) -> str:
    try:
        with open(os.path.join(dir, name), encoding="ascii") as f:
            v = f.read()
    except FileNotFoundError:
        if not os.path.isdir(dir):
            raise NoDeviceError(errno.ENOENT, f"no flakeid sysfs directory {dir}") from None
        raise
    return v[:-1] if v.endswith("\n") else v


def _read_num(dir: str, name: str, signed: bool = False) -> int:
    v = _read_attr(dir, name)
    digits = v[1:] if signed and v.startswith("-") else v
    if not digits.isascii() or not digits.isdigit():
        raise FlakeidError(errno.EPROTO, f"sysfs {name}: not a number: {v!r}")
    return int(v)


def stats_from(dir: str = SYSFS_DIR) -> Stats:
    """The counters from a sysfs directory laid out as the module's.  A
    module from before the ceiling has no until_ms: then there is none and
    its counters read 0."""
    names = ("ids_issued", "clock_steps_back", "borrowed_ms", "waits", "refills")
    base = {n: _read_num(dir, n) for n in names}
    base["ahead_ms"] = _read_num(dir, "ahead_ms", signed=True)
    base["generation"] = _read_num(dir, "generation")
    try:
        until = _read_attr(dir, "until_ms")
    except FileNotFoundError:
        return Stats(**base)
    return Stats(**base,
                 until_ms=UNTIL_NONE if until == "none" else _read_num(dir, "until_ms"),
                 until_wait_ms=_read_num(dir, "until_wait_ms"),
                 until_waits=_read_num(dir, "until_waits"),
                 until_refused=_read_num(dir, "until_refused"),
                 vm_forks=_read_num(dir, "vm_forks"))


class Generator:
    """An open /dev/flakeid.  Thread-safe: threads may share one; every ID
    is unique across threads and processes, and the IDs one Generator
    returns strictly increase.  close() (or leaving a ``with`` block) waits
    for calls in flight, then closes the file."""

    def __init__(self, path: str = DEVICE_PATH, sysfs_dir: str = SYSFS_DIR):
        try:
            self._fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as e:
            if e.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
                raise NoDeviceError(e.errno, f"no flakeid device at {path} "
                                    "(is the module loaded?)") from None
            raise _device_error(e) from None
        self._sysfs = sysfs_dir
        self._cond = threading.Condition()
        self._users = 0
        self._closed = False

    # A call holds the fd as a user, so close() cannot hand its number to
    # another open while a read or ioctl still uses it.
    def _enter(self) -> int:
        with self._cond:
            if self._closed:
                raise ValueError("flakeid Generator is closed")
            self._users += 1
            return self._fd

    def _leave(self) -> None:
        with self._cond:
            self._users -= 1
            if self._users == 0:
                self._cond.notify_all()

    def _ioctl(self, req: int, buf: bytearray) -> None:
        fd = self._enter()
        try:
            while True:
                try:
                    fcntl.ioctl(fd, req, buf, True)
                    return
                except InterruptedError:
                    # ioctl() is not retried by Python itself (PEP 475
                    # covers read); a signal handler that raised has run.
                    continue
                except OSError as e:
                    raise _device_error(e) from None
        finally:
            self._leave()

    def close(self) -> None:
        """Close the device (idempotent)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            while self._users:
                self._cond.wait()
            os.close(self._fd)

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> "Generator":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def fileno(self) -> int:
        return self._fd

    def generate(self) -> int:
        """One ID.  FencedError when the device may not issue now,
        TimestampOverflowError when the timestamp field is used up."""
        fd = self._enter()
        try:
            b = os.read(fd, 8)  # retries EINTR itself (PEP 475)
        except OSError as e:
            raise _device_error(e) from None
        finally:
            self._leave()
        if len(b) != 8:
            raise FlakeidError(errno.EIO, f"short read from {DEVICE_PATH}: {len(b)} bytes")
        return int.from_bytes(b, sys.byteorder)

    def generate_batch(self, n: int) -> List[int]:
        """``n`` IDs, strictly increasing, via FLAKEID_IOC_BATCH (as many
        calls as the device needs; each returns at most BATCH_MAX).  On an
        error the IDs already fetched are dropped; they are never issued
        again either way."""
        if n < 0:
            raise ValueError("n must be >= 0")
        out = array.array("Q", bytes(8 * n))
        addr = out.buffer_info()[0]
        done = 0
        while done < n:
            want = min(n - done, BATCH_MAX)
            buf = bytearray(_uapi.BATCH.pack(_uapi.BATCH.size, 0, want, addr + 8 * done, 0))
            self._ioctl(_uapi.IOC_BATCH, buf)
            got = _uapi.BATCH.unpack(buf)[2]
            if got > want:
                raise FlakeidError(errno.EPROTO, "FLAKEID_IOC_BATCH returned more IDs than asked")
            done += got
        return out.tolist()

    def ids(self, chunk: int = 64) -> Iterator[int]:
        """An endless iterator of IDs, fetched ``chunk`` at a time.  Raises
        (and ends) on the device's first refusal."""
        while True:
            yield from self.generate_batch(chunk)

    __iter__ = ids

    def decode(self, id: int) -> Decoded:
        """Split ``id`` under the device's current layout
        (FLAKEID_IOC_DECODE).  InvalidIdError when it has bits above it."""
        if not isinstance(id, int) or not 0 <= id < 1 << 64:
            raise InvalidIdError(errno.EINVAL, f"not a 64-bit unsigned ID: {id!r}")
        buf = bytearray(_uapi.DECODE.pack(_uapi.DECODE.size, 0, id, 0, 0, 0, 0, 0, 0, 0))
        try:
            self._ioctl(_uapi.IOC_DECODE, buf)
        except FlakeidError as e:
            if e.errno == errno.EINVAL:
                raise InvalidIdError(errno.EINVAL, f"ID {id} has bits above the layout") from None
            raise
        f = _uapi.DECODE.unpack(buf)
        return Decoded(f[3], f[4], f[5], f[6], f[7], f[8])

    def config(self) -> Config:
        """The device's configuration (FLAKEID_IOC_CONFIG)."""
        buf = bytearray(_uapi.CONFIG.size)
        _uapi.CONFIG.pack_into(buf, 0, _uapi.CONFIG.size, *([0] * 16))
        self._ioctl(_uapi.IOC_CONFIG, buf)
        f = _uapi.CONFIG.unpack(buf)
        # size, flags, epoch, 5 widths, 3 ids, max_borrow, reserved0, floor,
        # generation, until, vm_forks
        return Config(f[2], *f[3:8], *f[8:11], f[11], f[13], f[14], f[15], f[16])

    def stats(self) -> Stats:
        """The device's counters, from sysfs."""
        return stats_from(self._sysfs)
