"""The kernel interface, transcribed from uapi/linux/flakeid.h: ioctl
numbers, struct layouts (as struct formats), constants and errnos."""

import struct

DEVICE_PATH = "/dev/flakeid"
SYSFS_DIR = "/sys/class/misc/flakeid"

DEFAULT_EPOCH_MS = 1704067200000
DEFAULT_LAYOUT = (41, 4, 3, 5, 10)
UNTIL_NONE = 0xFFFFFFFFFFFFFFFF
UNTIL_FENCED = 0
BATCH_MAX = 1 << 20
BATCH_NONBLOCK = 0x1
IOC_TYPE = 0xB9

# Native byte order, standard sizes, no padding: the structs have none.
BATCH = struct.Struct("=IIQQQ")            # size flags count ids reserved
DECODE = struct.Struct("=IIQQQIIIIQ")      # size flags id unix_ms timestamp
                                           # region app machine sequence reserved
CONFIG = struct.Struct("=IIQIIIIIIIIIIQQQQ")  # see struct flakeid_config


def _iowr(nr: int, size: int) -> int:
    """_IOWR(FLAKEID_IOC_TYPE, nr, size) as <asm-generic/ioctl.h> builds it."""
    return (3 << 30) | (size << 16) | (IOC_TYPE << 8) | nr


IOC_BATCH = _iowr(0x01, BATCH.size)
IOC_DECODE = _iowr(0x02, DECODE.size)
IOC_CONFIG = _iowr(0x03, CONFIG.size)
